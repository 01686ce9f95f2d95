// `wsgate serve` as a user runs it: a spawned `node bin/wsgate.js serve` on the shipped config.
import { buildDist } from '../build-dist.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './config-fixture.js';
import { runProcess } from '../run-process.js';
import { closed, handshakeStatus, nextMessage, openWs } from './helpers.js';

interface Served {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<number | null>;
}

const everyServe: Served[] = [];

function runServe(args: string[]): Served {
  const child = spawn(process.execPath, [resolve(repoRoot, 'bin/wsgate.js'), 'serve', ...args], {
    cwd: repoRoot,
    env: { ...process.env, WSGATE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const served: Served = { child, stdout: '', stderr: '', exit: new Promise((r) => child.once('exit', (code) => r(code))) };
  everyServe.push(served);
  child.stdout!.on('data', (d: Buffer) => (served.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (served.stderr += d.toString()));
  return served;
}

/** The first stdout line containing `needle`, once it is there. */
async function logLine(served: Served, needle: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const line = served.stdout.split('\n').find((l) => l.includes(needle));
    if (line) return line;
    if (served.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no ${needle} line; stdout=${served.stdout} stderr=${served.stderr}`);
}

async function listeningAddress(served: Served, timeoutMs = 10_000): Promise<string> {
  return (JSON.parse(await logLine(served, '"listening"', timeoutMs)) as { address: string }).address;
}

describe('wsgate serve', () => {
  let tmp: string;
  // A failed assertion must not leave a gateway running after the file.
  afterAll(() => {
    for (const served of everyServe) if (served.child.exitCode === null) served.child.kill('SIGKILL');
  });
  beforeAll(() => {
    // The command runs from dist/: compile the current sources (tsc emits even if another area has type errors).
    buildDist();
    expect(existsSync(resolve(repoRoot, 'dist/server/gateway.js'))).toBe(true);
    tmp = mkdtempSync(join(tmpdir(), 'wsgate-serve-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('serves the shipped config (echo, dumb-increment) and exits 0 on SIGTERM after closing clients with 1001', async () => {
    const served = runServe(['-f', resolve(repoRoot, 'conf/wsgate.conf'), '--listen', '127.0.0.1:0']);
    const address = await listeningAddress(served);
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    const base = `ws://${address}`;

    const echo = await openWs(`${base}/echo`);
    echo.send('through serve');
    expect((await nextMessage(echo)).data.toString()).toBe('through serve');

    expect((await handshakeStatus(`${base}/dumb-increment`)).status).toBe(403);
    const counter = await openWs(`${base}/dumb-increment`, 'dumb-increment-protocol');
    expect(counter.protocol).toBe('dumb-increment-protocol');
    const numbers: number[] = [];
    await new Promise<void>((done) => {
      counter.on('message', (d: Buffer) => {
        numbers.push(Number(d.toString()));
        if (numbers.length === 3) counter.send('reset\n');
        if (numbers.length >= 3 && numbers.at(-1) === 0) done();
      });
    });
    expect(numbers.slice(0, 3)).toEqual([0, 1, 2]);

    const codes = Promise.all([closed(echo), closed(counter)]);
    served.child.kill('SIGTERM');
    expect(await served.exit).toBe(0);
    expect((await codes).map((c) => c.code)).toEqual([1001, 1001]);
  });

  it('prints config errors as FILE:LINE:COL and exits 1', async () => {
    const conf = join(tmp, 'broken.conf');
    writeFileSync(conf, 'Listen 127.0.0.1:0\n<Location /x>\n  SetHandler websocket-handler\n  WebSocketHandler ./missing.mjs\n</Location>\n');
    const served = runServe(['-f', conf]);
    expect(await served.exit).toBe(1);
    expect(served.stderr).toMatch(new RegExp(`${conf.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:\\d+: `));
  });

  it('exits 2 with a clear message when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const served = runServe(['-f', resolve(repoRoot, 'conf/wsgate.conf'), '--listen', `127.0.0.1:${port}`]);
    expect(await served.exit).toBe(2);
    expect(served.stderr).toBe(`wsgate serve: 127.0.0.1:${port} is in use by another process (EADDRINUSE)\n`);
    blocker.close();
  });

  it('starts the control socket and HTTP API the config names; `wsgate ctl` pushes through both', { timeout: 60_000 }, async () => {
    const socketPath = join(tmp, 'control.sock');
    const conf = join(tmp, 'control.conf');
    writeFileSync(
      conf,
      [
        'Listen 127.0.0.1:0',
        `WebSocketControlSocket ${socketPath} 0600`,
        'WebSocketControlListen 127.0.0.1:0',
        'WebSocketControlToken serve-test-token',
        '<Location /echo>',
        '  SetHandler websocket-handler',
        `  WebSocketHandler ${resolve(repoRoot, 'handlers/echo.mjs')}`,
        '</Location>',
        '',
      ].join('\n'),
    );
    const served = runServe(['-f', conf]);
    const address = await listeningAddress(served);
    const client = await openWs(`ws://${address}/echo?id=pushed-to`);
    const ctl = (...args: string[]) => runProcess(process.execPath, [resolve(repoRoot, 'bin/wsgate.js'), 'ctl', ...args]);
    // The control channels start right after the WebSocket listeners.
    const apiLine = await logLine(served, '"control API listening"');
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    const overSocket = nextMessage(client);
    let r = await ctl('--socket', socketPath, 'send', 'pushed-to', 'over the socket');
    expect(r.code, r.stderr).toBe(0);
    expect((await overSocket).data.toString()).toBe('over the socket');

    const { address: apiHost, port: apiPort } = JSON.parse(apiLine) as { address: string; port: number };
    const api = `http://${apiHost}:${apiPort}`;
    r = await ctl('--url', api, 'send', 'pushed-to', 'no token');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/401|token/);
    const overHttp = nextMessage(client);
    r = await ctl('--url', api, '--token', 'serve-test-token', 'send', 'pushed-to', 'over HTTP');
    expect(r.code, r.stderr).toBe(0);
    expect((await overHttp).data.toString()).toBe('over HTTP');

    served.child.kill('SIGTERM');
    expect(await served.exit).toBe(0);
    expect(existsSync(socketPath)).toBe(false);
  });

  it('refuses a control API on a public address without a token (exit 1)', async () => {
    const conf = join(tmp, 'open-control.conf');
    writeFileSync(conf, 'Listen 127.0.0.1:0\nWebSocketControlListen 0.0.0.0:0\n');
    const served = runServe(['-f', conf]);
    expect(await served.exit).toBe(1);
    expect(served.stderr).toMatch(/:2:\d+: WebSocketControlListen 0\.0\.0\.0:0 is not a loopback address: set WebSocketControlToken/);
  });

  it('refuses a bad --listen with a usage error (exit 1)', async () => {
    const served = runServe(['--listen', 'nonsense']);
    expect(await served.exit).toBe(1);
    expect(served.stderr).toMatch(/--listen nonsense/);
  });
});
