// Conformance through the front door: `node bin/wsgate.js serve` on the shipped conf/wsgate.conf
// (config parser, defaults, CLI, compiled dist/), graded by the same raw client. Condensed: the full
// sections run in-process; this proves the product a user starts behaves the same.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { fragment, OP, pieces } from './frame-builder.js';
import { binary, expectCleanClose, expectFailure, expectMessages, expectPongs, text, withClient } from './outcome.js';
import { HandshakeRefused, openWebSocket, type OpenOptions } from './raw-client.js';
import type { RawClient } from './raw-client.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let child: ChildProcess;
let output = '';
let port = 0;

async function listeningPort(timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null) {
    const line = output.split('\n').find((l) => l.includes('"listening"'));
    if (line !== undefined) return Number((JSON.parse(line) as { address: string }).address.split(':').pop());
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`wsgate serve did not report a listener: ${output}`);
}

/** Newest modification time under `dir` (bounded by the size of src/). */
function newestMtime(dir: string): number {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .reduce((newest, entry) => Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs), 0);
}

beforeAll(async () => {
  // bin/wsgate.js runs dist/: compile when it is missing or older than src/ (as npm ci would). Not
  // unconditionally: other test files may be running dist/ at this moment.
  const entry = path.join(repoRoot, 'dist/cli/main.js');
  if (!existsSync(entry) || statSync(entry).mtimeMs < newestMtime(path.join(repoRoot, 'src'))) {
    spawnSync(process.execPath, [path.join(repoRoot, 'scripts/build.mjs'), '--quiet'], { cwd: repoRoot, stdio: 'ignore', timeout: 60_000 });
  }
  expect(existsSync(entry)).toBe(true);
  child = spawn(process.execPath, [path.join(repoRoot, 'bin/wsgate.js'), 'serve', '-f', path.join(repoRoot, 'conf/wsgate.conf'), '--listen', '127.0.0.1:0'], {
    cwd: repoRoot,
    env: { ...process.env, WSGATE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  port = await listeningPort(15_000);
}, 90_000);

afterAll(async () => {
  if (child === undefined || child.exitCode !== null) return;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000))]);
  if (code === 'timeout') child.kill('SIGKILL');
  expect(code).toBe(0);
});

/** A browser on the gateway's own origin: the shipped config keeps the default WebSocketOriginCheck Same. */
const sameOrigin = (): OpenOptions => ({ port, headers: [['Origin', `http://127.0.0.1:${port}`]] });
const open = (body: (client: RawClient) => Promise<void>): Promise<void> => withClient(sameOrigin(), body);

describe('shipped conf/wsgate.conf through wsgate serve', () => {
  it('1.x / 5.x: text and binary of boundary lengths, whole and in fragments with a ping between', () =>
    open(async (client) => {
      const messages = [0, 125, 126, 65535, 65536].flatMap((n) => [text(Buffer.alloc(n, 'w')), binary(randomBytes(n))]);
      const pings: Buffer[] = [];
      for (const [i, m] of messages.entries()) {
        const frames = fragment(m.opcode, m.data, pieces(m.data.length, 40_000));
        if (frames.length > 1) {
          pings.push(Buffer.from(`between ${i}`));
          frames.splice(1, 0, { opcode: OP.ping, payload: pings.at(-1) });
        }
        client.sendFrames(frames);
      }
      await expectMessages(client, messages);
      await expectPongs(client, pings);
      expect(pings.length).toBe(4);
      await expectCleanClose(client);
    }));

  it('3.x / 6.x / 7.x: RSV → 1002, invalid UTF-8 → 1007, close 1005 on the wire → 1002', async () => {
    const cases: [(c: RawClient) => void, number][] = [
      [(c) => c.sendFrame({ opcode: OP.text, payload: 'x', rsv: 2 }), 1002],
      [(c) => c.sendFrame({ opcode: OP.text, payload: Buffer.from('cebae1bdb9cf83cebcceb5eda080', 'hex') }), 1007],
      [(c) => c.sendClose(1005), 1002],
    ];
    for (const [act, code] of cases) {
      await open(async (client) => {
        act(client);
        await expectFailure(client, code);
      });
    }
  });

  it('v8 handshake and echo', () =>
    withClient({ ...sameOrigin(), version: 8, headers: [['Sec-WebSocket-Origin', `http://127.0.0.1:${port}`]] }, async (client) => {
      client.sendFrame({ opcode: OP.text, payload: 'v8' });
      await expectMessages(client, [text('v8')]);
      await expectCleanClose(client);
    }));

  it('MaxMessageSize 65536 on /chat: 65537 bytes → 1009', () =>
    withClient({ ...sameOrigin(), path: '/chat' }, async (client) => {
      client.sendFrame({ opcode: OP.binary, payload: randomBytes(65537) });
      await expectFailure(client, 1009);
    }));

  it('the default WebSocketOriginCheck Same refuses a foreign Origin with 403', async () => {
    const refused = await openWebSocket({ port, headers: [['Origin', 'http://elsewhere.example']] }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(HandshakeRefused);
    expect((refused as HandshakeRefused).head.status).toBe(403);
  });
});
