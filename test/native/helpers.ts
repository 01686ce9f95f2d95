// Shared by the native plugin tests: building the helper and the C fixtures, a gateway serving
// them on 127.0.0.1:0, and small ws client utilities. Every wait is bounded.
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { pino } from 'pino';
import type { GatewayConfig, HandlerSpec } from '../../src/config/model.js';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { endpoint, gatewayConfig } from '../server/config-fixture.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = join(repoRoot, 'test/fixtures/plugins');
const include = join(repoRoot, 'handlers/include');
const outDir = join(tmpdir(), `wsgate-native-test-${process.pid}`);

/** Runs scripts/build-native.mjs (the helper and the example plugins into build/). */
export function buildNative(): void {
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts/build-native.mjs'), '--quiet'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build-native failed: ${r.stderr}`);
}

/** Include flags for a plugin built against Debian's Apache 2.4 headers (apache2-dev). */
export const HTTPD_CFLAGS = ['-I/usr/include/apache2', '-I/usr/include/apr-1.0'];

/** Compiles test/fixtures/plugins/NAME.c into a temp dir; returns the .so path. */
export function compileFixture(name: string, cflags: readonly string[] = []): string {
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, `${name}.so`);
  // Written aside and renamed: an earlier test file in this process may still have `out` mapped.
  const temp = `${out}.${Date.now()}.tmp`;
  const r = spawnSync('cc', ['-shared', '-fPIC', '-pthread', '-Wall', '-Wextra', '-Werror', `-I${include}`, ...cflags, '-o', temp, join(fixtures, `${name}.c`)], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`cc ${name}.c failed: ${r.stderr}`);
  renameSync(temp, out);
  return out;
}

export const examplePlugin = (name: string): string => join(repoRoot, 'build/plugins', `${name}.so`);

export const loc = (line: number) => ({ file: join(repoRoot, 'test/native/native.conf'), line, column: 3 });

export function nativeSpec(path: string, init: string, line = 7): Extract<HandlerSpec, { kind: 'native' }> {
  return { kind: 'native', path, init, loc: loc(line) };
}

export interface NativeEndpoint {
  location: string;
  path: string;
  init: string;
}

export function nativeConfig(endpoints: NativeEndpoint[]): GatewayConfig {
  // The server tests' hand-built config, with one WebSocketHandler line per endpoint.
  return gatewayConfig(endpoints.map((e, i) => endpoint(e.location, { handler: nativeSpec(e.path, e.init, 10 + i), settings: { sendQueueLimit: 64 * 1024 * 1024 } })));
}

export async function startNative(endpoints: NativeEndpoint[]): Promise<{ gateway: RunningGateway; url: string }> {
  const gateway = await startGateway(nativeConfig(endpoints), { log: pino({ level: 'silent' }) });
  const address = gateway.addresses[0]!;
  return { gateway, url: `ws://127.0.0.1:${address.port}` };
}

/** Resolves when `check()` holds; rejects after `ms`. */
export async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The helper's live C connection count once earlier tests' disconnects have finished: unchanged
 *  for 150 ms (on_disconnect runs on a thread, so a count read right away may still fall). */
export async function settledLiveConnections(live: () => number | bigint): Promise<number> {
  const deadline = Date.now() + 5000;
  let last = Number(live());
  let since = Date.now();
  while (Date.now() - since < 150 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
    const now = Number(live());
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
  return last;
}

export interface Client {
  ws: WebSocket;
  messages: Array<{ data: Buffer; isBinary: boolean }>;
  texts(): string[];
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens a client and records everything it receives. */
export function connect(url: string, protocols: string[] = [], headers: Record<string, string> = {}): Promise<Client> {
  return new Promise((resolveOpen, rejectOpen) => {
    const ws = new WebSocket(url, protocols, { headers });
    const messages: Client['messages'] = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => messages.push({ data, isBinary }));
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.once('open', () => resolveOpen({ ws, messages, texts: () => messages.map((m) => m.data.toString()), closed }));
    ws.once('unexpected-response', (_req, res) => rejectOpen(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, headers: res.headers })));
    ws.once('error', rejectOpen);
  });
}

/** The HTTP answer to an upgrade request, whether 101 or a refusal. */
export function handshake(url: string, protocols: string[] = [], headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; ws: WebSocket }> {
  return new Promise((resolveAnswer, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.once('upgrade', (res) => resolveAnswer({ status: res.statusCode ?? 0, headers: res.headers, ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolveAnswer({ status: res.statusCode ?? 0, headers: res.headers, ws });
      res.resume();
    });
    ws.once('error', (err) => reject(err));
  });
}
