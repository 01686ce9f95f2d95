// Configs that are valid but would not work as meant: no WebSocket endpoint in effect (a Location
// inside an <IfDefine> that is off), a control socket directory that cannot be created. `check`
// warns (exit 0) and a spawned `serve` prints the same warning at start-up.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check } from '../../src/cli/check.js';
import { captureIO, tempTree } from '../config/helpers.js';
import { repoRoot } from './config-fixture.js';
import { buildOnce, listeningAddress, startServe, stopAll } from './spawned-serve.js';

const echo = resolve(repoRoot, 'handlers/echo.mjs');
const guarded = ['Listen 127.0.0.1:0', '<IfDefine WITH_ECHO>', '<Location /echo>', 'SetHandler websocket-handler', `WebSocketHandler ${echo}`, '</Location>', '</IfDefine>', ''].join('\n');
const noEndpoint =
  'w.conf: warning: no WebSocket endpoint: no <Location> with SetHandler websocket-handler and WebSocketHandler is in effect (after <IfDefine>/<IfModule>; -D NAME defines); every request would be answered 404\n';

beforeAll(buildOnce);
afterAll(stopAll);

describe('no WebSocket endpoint in effect', () => {
  it('check: a warning at the main file, still Syntax OK; none once the IfDefine is on', async () => {
    const root = tempTree({ 'w.conf': guarded });
    const off = captureIO(root);
    expect(await check(['-f', 'w.conf'], off.io)).toBe(0);
    expect(off.err()).toBe(noEndpoint);
    expect(off.out()).toBe('Syntax OK\n');
    const on = captureIO(root);
    expect(await check(['-f', 'w.conf', '-D', 'WITH_ECHO'], on.io)).toBe(0);
    expect(on.err()).toBe('');
  });

  it('serve: the same warning on stderr at start-up, then it runs', async () => {
    const root = tempTree({ 'w.conf': guarded });
    const served = startServe(['-f', join(root, 'w.conf')]);
    await listeningAddress(served);
    expect(served.stderr).toBe(noEndpoint.replace('w.conf', join(root, 'w.conf')));
    served.child.kill('SIGTERM');
    expect(await served.exit).toBe(0);
  });
});

// The board's documented setup as a user who may not create /run/wsgate (root runs it as nobody).
const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534, name: 'nobody' } : undefined;
const runDirTaken = existsSync('/run/wsgate') ? '/run/wsgate exists on this machine' : undefined;

describe.skipIf(runDirTaken !== undefined)(`Include ../handlers/board/board.conf as a user who cannot create /run/wsgate${runDirTaken ? ` (skipped: ${runDirTaken})` : ''}`, () => {
  it('check warns at the WebSocketControlSocket line; serve exits 2 saying what to create', () => {
    const root = tempTree({ 'w.conf': `Listen 127.0.0.1:0\nServerRoot ${resolve(repoRoot, 'conf')}\nInclude ../handlers/board/board.conf\n` });
    chmodSync(root, 0o755);
    chmodSync(join(root, 'w.conf'), 0o644);
    const run = (command: string) =>
      spawnSync(process.execPath, [resolve(repoRoot, 'bin/wsgate.js'), command, '-f', join(root, 'w.conf')], {
        cwd: root,
        encoding: 'utf8',
        timeout: 10_000,
        ...(asUser ? { uid: asUser.uid, gid: asUser.gid } : {}),
      });
    const user = asUser?.name ?? userInfo().username;
    const line = `${resolve(repoRoot, 'handlers/board/board.conf')}:7:1`;
    const checked = run('check');
    expect(checked.status).toBe(0);
    expect(checked.stderr).toBe(
      `${line}: warning: the control socket's directory /run/wsgate does not exist and ${user} cannot create it (/run is not writable): create it before serve: mkdir -p /run/wsgate && chown ${user} /run/wsgate\n`,
    );
    const served = run('serve');
    expect(served.status).toBe(2);
    expect(served.stderr).toContain(`wsgate serve: ${line}: cannot create the control socket's directory /run/wsgate (EACCES): create it for the user running wsgate: mkdir -p /run/wsgate && chown ${user} /run/wsgate`);
    expect(existsSync('/run/wsgate')).toBe(false);
  });
});

describe('control socket directory in check', () => {
  it('warns at the WebSocketControlSocket line when the directory cannot be created; not when serve can create it', async () => {
    const root = tempTree({ file: 'a file, not a directory\n' });
    const endpoint = ['<Location /echo>', 'SetHandler websocket-handler', `WebSocketHandler ${echo}`, '</Location>'];
    const blocked = tempTree({ 'w.conf': [`WebSocketControlSocket ${join(root, 'file', 'wsgate', 'control.sock')}`, ...endpoint, ''].join('\n') });
    const io = captureIO(blocked);
    expect(await check(['-f', 'w.conf'], io.io)).toBe(0);
    expect(io.err()).toBe(`w.conf:1:1: warning: the control socket's directory ${join(root, 'file', 'wsgate')} cannot be created: ${join(root, 'file')} is not a directory\n`);

    const creatable = tempTree({ 'w.conf': [`WebSocketControlSocket ${join(root, 'run', 'wsgate', 'control.sock')}`, ...endpoint, ''].join('\n') });
    const fine = captureIO(creatable);
    expect(await check(['-f', 'w.conf'], fine.io)).toBe(0);
    expect(fine.err()).toBe('');
  });
});
