// What the real `wsgate` command says when something is wrong: one message per problem, naming the
// file position or the address and the reason, without internal paths.
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../control/helpers.js';
import { repoRoot } from '../server/config-fixture.js';
import { buildDist, wsgate } from './bin.js';

const echo = resolve(repoRoot, 'handlers/echo.mjs');

/** A port that was free a moment ago (its listener is closed again). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('wsgate error messages', { timeout: 60_000 }, () => {
  const tmp = tempDir();
  const conf = (name: string, lines: string[]): string => {
    const path = join(tmp.dir, name);
    writeFileSync(path, `${lines.join('\n')}\n`);
    return name;
  };
  beforeAll(buildDist, 120_000);
  afterAll(() => tmp.remove());

  it('a missing handler is reported once, at its WebSocketHandler line, without internal paths', async () => {
    const file = conf('missing.conf', ['Listen 127.0.0.1:0', '<Location /x>', '  SetHandler websocket-handler', '  WebSocketHandler missing.mjs', '</Location>']);
    for (const verb of ['check', 'serve']) {
      const r = await wsgate([verb, '-f', file], { cwd: tmp.dir });
      expect(r.code, verb).toBe(1);
      expect(r.stderr, verb).toBe(`missing.conf:4:20: WebSocketHandler: ${join(tmp.dir, 'missing.mjs')} does not exist or is not a file\n`);
    }
  });

  it('a misspelt section name is an unknown section with a suggestion, and its body gets no follow-on errors', async () => {
    const file = conf('typo.conf', ['Listen 127.0.0.1:0', '<Locaton /x>', '  SetHandler websocket-handler', '  WebSocketHandler missing.mjs', '</Locaton>', '<VirtualHst *:80>', '</VirtualHst>']);
    const r = await wsgate(['check', '-f', file], { cwd: tmp.dir });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe('typo.conf:2:1: unknown section <Locaton>, did you mean <Location>?');
    expect(lines).toContain('typo.conf:6:1: unknown section <VirtualHst>, did you mean <VirtualHost>?');
    expect(r.stderr).not.toMatch(/cannot be used inside/);
    // Sections Apache modules wsgate does not know are still read and ignored, and known names in any case.
    const other = conf('other.conf', [
      'Listen 127.0.0.1:0',
      '<MySiteSection foo>',
      '  Whatever 1',
      '</MySiteSection>',
      '<directory /srv>',
      '</directory>',
      '<location /echo>',
      '  SetHandler websocket-handler',
      `  WebSocketHandler ${echo}`,
      '</location>',
    ]);
    expect(await wsgate(['check', '-f', other], { cwd: tmp.dir })).toEqual({ code: 0, stdout: 'Syntax OK\n', stderr: '' });
  });

  it('a port in use names the address and exits 2', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const { port } = blocker.address() as { port: number };
    try {
      const r = await wsgate(['serve', '--listen', `127.0.0.1:${port}`], { cwd: tmp.dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`wsgate serve: 127.0.0.1:${port} is in use by another process (EADDRINUSE)\n`);
    } finally {
      blocker.close();
    }
  });

  it('an address that is not this machine’s names the address and the reason, exit 2', async () => {
    // 192.0.2.1 (TEST-NET-1) is on no interface here: binding fails before any packet is sent.
    const file = conf('foreign.conf', ['Listen 192.0.2.1:0', '<Location /echo>', '  SetHandler websocket-handler', `  WebSocketHandler ${echo}`, '</Location>']);
    const r = await wsgate(['serve', '-f', file], { cwd: tmp.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('wsgate serve: foreign.conf:1:1: cannot listen on 192.0.2.1:0: no network interface of this machine has that address (EADDRNOTAVAIL)\n');
  });

  it('ctl to a dead address names the URL and the reason, exit 2', async () => {
    const port = await closedPort();
    const http = await wsgate(['ctl', '--url', `http://127.0.0.1:${port}`, 'list'], { cwd: tmp.dir });
    expect(http.code).toBe(2);
    expect(http.stderr).toBe(`wsgate ctl: cannot reach the control API at http://127.0.0.1:${port}: nothing listens on 127.0.0.1:${port} (ECONNREFUSED; is the gateway running with WebSocketControlListen?)\n`);
    const socket = join(tmp.dir, 'absent.sock');
    const unix = await wsgate(['ctl', '--socket', socket, 'list'], { cwd: tmp.dir });
    expect(unix.code).toBe(2);
    expect(unix.stderr).toBe(`wsgate ctl: cannot connect to control socket ${socket}: no such socket file (ENOENT; is the gateway running with WebSocketControlSocket?)\n`);
  });
});
