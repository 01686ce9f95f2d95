// Shutdown with plugin threads running: in process (gateway.close → 1001, on_disconnect, destroy)
// and as `wsgate serve` receiving SIGTERM (exit 0, no crash), using the compiled dist/ like users.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';
import { beforeAll, expect, test } from 'vitest';
import { nativeLibrary, toNumber, type NativeLibrary } from '../../src/plugins/native/ffi.js';
import { buildNative, compileFixture, connect, examplePlugin, handshake, repoRoot, startNative, until } from './helpers.js';

beforeAll(() => buildNative());

test('gateway.close(): clients get 1001, every on_disconnect returns, then destroy runs', async () => {
  const probe = compileFixture('probe');
  const probeDestroyed = koffi.load(probe).func('int probe_destroyed(void)') as () => number;
  const { gateway, url } = await startNative([
    { location: '/increment', path: examplePlugin('dumb_increment'), init: 'dumb_increment_init' },
    { location: '/probe', path: probe, init: 'probe_init' },
  ]);
  const lib = nativeLibrary() as NativeLibrary;
  const counters = await Promise.all(Array.from({ length: 10 }, () => connect(`${url}/increment`, ['dumb-increment-protocol'])));
  const probes = await Promise.all(Array.from({ length: 5 }, () => connect(`${url}/probe`, [], { 'X-Early': '1000' })));
  await until(() => counters.every((c) => c.messages.length >= 2), 3000, 'counting');
  const destroyedBefore = probeDestroyed();
  await gateway.close();
  const closes = await Promise.all([...counters, ...probes].map((c) => c.closed));
  expect(closes.map((c) => c.code)).toEqual(Array(15).fill(1001));
  expect(toNumber(lib.liveConnections())).toBe(0);
  expect(probeDestroyed()).toBe(destroyedBefore + 1);
});

const cli = join(repoRoot, 'bin/wsgate.js');
const built = existsSync(join(repoRoot, 'dist/plugins/native/index.js'));

/** `wsgate serve ARGS` as a user runs it; resolves with its port once the listening line is out. */
async function serveUntilListening(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, [cli, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const served = { child, output: '', port: '', exited: undefined as unknown as Promise<{ code: number | null; signal: NodeJS.Signals | null }> };
  child.stdout.on('data', (d: Buffer) => (served.output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (served.output += d.toString()));
  served.exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  await until(() => /"address":"127\.0\.0\.1:\d+"/.test(served.output), 10_000, 'the listening line');
  served.port = /"address":"127\.0\.0\.1:(\d+)"/.exec(served.output)![1]!;
  return served;
}

test.skipIf(!built)('wsgate serve with counting clients exits 0 on SIGTERM', { timeout: 20_000 }, async () => {
  const served = await serveUntilListening(['-f', join(repoRoot, 'conf/native-dumb-increment.conf'), '--listen', '127.0.0.1:0']);
  const clients = await Promise.all(Array.from({ length: 20 }, () => connect(`ws://127.0.0.1:${served.port}/dumb-increment`, ['dumb-increment-protocol'])));
  await until(() => clients.every((c) => c.messages.length >= 2), 5000, 'counting');
  served.child.kill('SIGTERM');
  const result = await served.exited;
  expect(served.output).not.toMatch(/Segmentation|Aborted|HandleScope/);
  expect(result).toEqual({ code: 0, signal: null });
  const closes = await Promise.all(clients.map((c) => c.closed));
  expect(closes.every((c) => c.code === 1001)).toBe(true);
});

test.skipIf(!built)('an on_disconnect that hangs does not hold up shutdown beyond WebSocketCloseTimeout', { timeout: 20_000 }, async () => {
  const stuck = compileFixture('stuck');
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-stuck-'));
  const conf = join(dir, 'stuck.conf');
  writeFileSync(conf, `Listen 127.0.0.1:0\nWebSocketCloseTimeout 1\n<Location /stuck>\n  SetHandler websocket-handler\n  WebSocketHandler ${stuck} stuck_init\n</Location>\n`);
  const served = await serveUntilListening(['-f', conf]);
  const clients = await Promise.all(Array.from({ length: 3 }, () => connect(`ws://127.0.0.1:${served.port}/stuck`)));
  clients[0]!.ws.send('hello');
  await until(() => clients[0]!.messages.length === 1, 3000, 'the echo');
  const started = Date.now();
  served.child.kill('SIGTERM');
  const result = await served.exited;
  expect(result).toEqual({ code: 0, signal: null });
  // 1 s for the close handshakes (answered at once here) + 1 s for the on_disconnects, plus start-up slack.
  expect(Date.now() - started).toBeLessThan(6000);
  expect(served.output).toMatch(/onDisconnect still running 1 s after the close/);
  expect(served.output).toMatch(/on_disconnect still running: destroy skipped/);
});

test.skipIf(!built)('process.exit while plugin threads are sending: exit 0, no crash', { timeout: 20_000 }, async () => {
  const ticker = compileFixture('ticker');
  for (let run = 0; run < 3; run++) {
    const child = spawn(process.execPath, [join(repoRoot, 'test/fixtures/plugins/exit-with-threads.mjs'), ticker, 'ticker_init'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
    expect(output).toMatch(/^ticks [1-9]\d*\n$/);
    expect(result).toEqual({ code: 0, signal: null });
  }
});

test.skipIf(!built)('without libapr-1 request() is NULL and the gateway says why, once per worker process', { timeout: 20_000 }, async () => {
  const probe = compileFixture('probe');
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-noapr-'));
  const conf = join(dir, 'noapr.conf');
  const increment = ['<Location /increment>', 'SetHandler websocket-handler', `WebSocketHandler ${examplePlugin('dumb_increment')} dumb_increment_init`, '</Location>'];
  writeFileSync(conf, ['Listen 127.0.0.1:0', 'WebSocketWorkers 1', ...['/a', '/b'].flatMap((l) => [`<Location ${l}>`, 'SetHandler websocket-handler', `WebSocketHandler ${probe} probe_init`, '</Location>']), ...increment, ''].join('\n'));
  const served = await serveUntilListening(['-f', conf], { ...process.env, WSGATE_NATIVE_NO_APR: '1' });
  try {
    const answer = await handshake(`ws://127.0.0.1:${served.port}/a`);
    expect(answer.status).toBe(101);
    expect(answer.headers['x-request']).toBe('null');
    answer.ws.terminate();
    // The example plugin allocates from r->pool: with no request it declines, as it did under httpd.
    expect((await handshake(`ws://127.0.0.1:${served.port}/increment`, ['dumb-increment-protocol'])).status).toBe(403);
    expect(served.output.match(/request\(\) == NULL: libapr-1 disabled by WSGATE_NATIVE_NO_APR/g)).toHaveLength(1);
  } finally {
    served.child.kill('SIGTERM');
  }
  expect((await served.exited).code).toBe(0);
});
