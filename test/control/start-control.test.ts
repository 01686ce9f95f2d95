import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WsgateError } from '../../src/errors.js';
import { startControl } from '../../src/control/index.js';
import { FakeGateway } from './fake-gateway.js';
import { converse, silentLog, tempDir } from './helpers.js';

const loc = { file: '/etc/wsgate.conf', line: 5, column: 1 };

describe('startControl', () => {
  it('starts nothing when nothing is configured', async () => {
    const control = await startControl({ socket: undefined, listen: undefined, token: undefined }, new FakeGateway(), silentLog);
    expect([control.socketPath, control.httpAddress]).toEqual([undefined, undefined]);
    await control.close();
  });

  it('starts both listeners, and leaves nothing behind when the second cannot start', async () => {
    const tmp = tempDir();
    const gateway = new FakeGateway();
    gateway.add('a');
    const first = await startControl(
      { socket: { path: join(tmp.dir, 'one.sock'), mode: 0o600, loc }, listen: { host: '127.0.0.1', port: 0, loc }, token: 't' },
      gateway,
      silentLog,
    );
    try {
      expect(first.socketPath).toBe(join(tmp.dir, 'one.sock'));
      expect(first.httpAddress?.port).toBeGreaterThan(0);
      expect(await converse(first.socketPath!, 'LIST\n', 3)).toEqual(['OK 1', 'a 127.0.0.1:40001', 'END']);
      const second = join(tmp.dir, 'two.sock');
      const err = await startControl({ socket: { path: second, mode: 0o600, loc }, listen: { host: '127.0.0.1', port: first.httpAddress!.port, loc }, token: 't' }, gateway, silentLog).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WsgateError);
      expect((err as WsgateError).format()).toMatch(/^\/etc\/wsgate\.conf:5:1: cannot listen on 127\.0\.0\.1:\d+ for the control API: .*EADDRINUSE/);
      expect(existsSync(second)).toBe(false);
    } finally {
      await first.close();
      tmp.remove();
    }
    expect(existsSync(join(tmp.dir, 'one.sock'))).toBe(false);
  });

  it('refuses a token-less non-loopback HTTP listen, naming an IPv6 address in brackets', async () => {
    for (const [host, shown] of [['::', '[::]:18953'], ['0.0.0.0', '0.0.0.0:18953']]) {
      const err = await startControl({ socket: undefined, listen: { host: host!, port: 18953, loc }, token: undefined }, new FakeGateway(), silentLog).catch((e: unknown) => e);
      expect((err as WsgateError).code).toBe('CONTROL_AUTH');
      expect((err as WsgateError).format()).toBe(
        `/etc/wsgate.conf:5:1: WebSocketControlListen ${shown} is not a loopback address and no WebSocketControlToken (or WebSocketControlTokenFile) is set; refusing to expose the control API without a token`,
      );
    }
  });

  it('reports a socket directory that cannot be created with the directive location', async () => {
    // A missing directory is created (socket-directory.test.ts); under a regular file it cannot be.
    const tmp = tempDir();
    writeFileSync(join(tmp.dir, 'file'), '');
    const path = join(tmp.dir, 'file', 'sub', 'wsgate.sock');
    const err = await startControl({ socket: { path, mode: 0o660, loc }, listen: undefined, token: undefined }, new FakeGateway(), silentLog).catch((e: unknown) => e);
    tmp.remove();
    expect((err as WsgateError).code).toBe('CONTROL_SOCKET');
    expect((err as WsgateError).format()).toMatch(/^\/etc\/wsgate\.conf:5:1: cannot create the control socket's directory .*\/file\/sub \(ENOTDIR\): create it /);
  });
});
