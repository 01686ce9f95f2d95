// The control socket's directory: created when missing (mode 0750, 0755 when MODE lets others
// connect; owned by the user running wsgate), else an error naming the config line and what to create.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WsgateError } from '../../src/errors.js';
import { startSocketServer, type RunningSocketServer } from '../../src/control/socket-server.js';
import { FakeGateway } from './fake-gateway.js';
import { converse, silentLog, tempDir } from './helpers.js';

const loc = { file: '/etc/wsgate/wsgate.conf', line: 7, column: 1 };

describe('control socket directory', () => {
  let tmp: ReturnType<typeof tempDir>;
  let server: RunningSocketServer | undefined;
  beforeEach(() => {
    tmp = tempDir();
    server = undefined;
  });
  afterEach(async () => {
    await server?.close();
    tmp.remove();
  });

  const start = async (path: string, mode = 0o660): Promise<void> => {
    server = await startSocketServer({ path, mode, loc, registry: new FakeGateway(), log: silentLog });
  };

  it('creates a missing directory and its parents, 0750 for a group socket, owned by this user; the socket works', async () => {
    const path = join(tmp.dir, 'run', 'wsgate', 'control.sock');
    await start(path);
    const dir = statSync(join(tmp.dir, 'run', 'wsgate'));
    expect(dir.isDirectory()).toBe(true);
    expect(dir.mode & 0o777).toBe(0o750);
    expect(dir.uid).toBe(process.getuid!());
    expect(await converse(path, 'PING\n', 1)).toEqual(['OK PONG']);
  });

  it('0755 when MODE lets others connect', async () => {
    const path = join(tmp.dir, 'open', 'control.sock');
    await start(path, 0o666);
    expect(statSync(join(tmp.dir, 'open')).mode & 0o777).toBe(0o755);
  });

  it('leaves an existing directory as it is', async () => {
    mkdirSync(join(tmp.dir, 'mine'), { mode: 0o700 });
    await start(join(tmp.dir, 'mine', 'control.sock'));
    expect(statSync(join(tmp.dir, 'mine')).mode & 0o777).toBe(0o700);
  });

  it('cannot be created (a parent is a file): the error names the config line and what to create', async () => {
    writeFileSync(join(tmp.dir, 'file'), 'not a directory');
    const dir = join(tmp.dir, 'file', 'wsgate');
    const error = await start(join(dir, 'control.sock')).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(WsgateError);
    const message = (error as WsgateError).format();
    expect(message).toContain(`/etc/wsgate/wsgate.conf:7:1: cannot create the control socket's directory ${dir} (ENOTDIR): create it for the user running wsgate: mkdir -p ${dir} && chown `);
    expect((error as WsgateError).code).toBe('CONTROL_SOCKET');
  });

  it('the directory itself is a file: refused, naming it', async () => {
    writeFileSync(join(tmp.dir, 'file'), 'not a directory');
    const error = await start(join(tmp.dir, 'file', 'control.sock')).catch((err: unknown) => err);
    expect((error as WsgateError).format()).toBe(`/etc/wsgate/wsgate.conf:7:1: the control socket's directory ${join(tmp.dir, 'file')} exists and is not a directory`);
  });
});
