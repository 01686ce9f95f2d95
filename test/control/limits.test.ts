// The control API cannot be pinned (issue 14, item 5): bodies capped by WebSocketControlMaxPayload,
// header and request timeouts as on the WebSocket port, client aborts logged at debug without a
// stack, and the line protocol's length prefix bounded. A canary keeps echoing through each attack.
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { controlLimits } from '../../src/control/commands.js';
import { startHttpServer, type RunningHttpServer } from '../../src/control/http-server.js';
import { Canary } from '../server/canary.js';
import { converse } from './helpers.js';
import { startLiveGateway, type LiveGateway } from './live-gateway.js';

const timeouts = { headersMs: 1000, requestMs: 2000 };
const limits = controlLimits();

/** Every log line of the token-less API under attack, parsed. */
const logLines: Array<Record<string, unknown>> = [];
const capture = new Writable({
  write(chunk: Buffer, _enc, callback) {
    for (const line of chunk.toString().split('\n')) if (line !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
    callback();
  },
});

let live: LiveGateway;
let api: RunningHttpServer;

beforeAll(async () => {
  live = await startLiveGateway();
  // The loopback default of the issue: no token.
  api = await startHttpServer({ host: '127.0.0.1', port: 0, loc: undefined, token: undefined, registry: live.gw.registry, log: pino({ level: 'debug' }, capture), timeouts });
});

afterAll(async () => {
  await api?.close();
  await live?.close();
});

const echoUrl = (): string => `ws://127.0.0.1:${live.gw.addresses[0]!.port}/echo`;

/** A raw HTTP client: writes `head` (and `body`), then collects what comes back until the server closes. */
function rawRequest(head: string, body?: Buffer): { socket: Socket; answer: Promise<{ text: string; closedAfterMs: number }> } {
  const socket = connect(api.address.port, '127.0.0.1');
  const start = performance.now();
  const answer = new Promise<{ text: string; closedAfterMs: number }>((resolve) => {
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ text, closedAfterMs: performance.now() - start }));
  });
  if (head !== '') socket.write(head);
  if (body) socket.write(body);
  return { socket, answer };
}

const post = (length: number): string => `POST /broadcast HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n\r\n`;

describe('control API limits', () => {
  test('ten unfinished bodies: capped, dropped at the request timeout, memory bounded; the canary keeps echoing', async () => {
    const canary = await Canary.start(echoUrl());
    const before = process.memoryUsage().arrayBuffers;
    // The 44 MB bodies are refused from their Content-Length at once…
    const huge = Array.from({ length: 10 }, () => rawRequest(post(44 * 1024 * 1024), Buffer.alloc(64 * 1024)));
    // …and bodies under the cap that stop half way are held only until the request timeout.
    const stalled = Array.from({ length: 10 }, () => rawRequest(post(limits.maxBodyBytes), Buffer.alloc(Math.floor(limits.maxBodyBytes / 2), 0x61)));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const held = process.memoryUsage().arrayBuffers - before;
    const hugeAnswers = await Promise.all(huge.map((r) => r.answer));
    const stalledAnswers = await Promise.all(stalled.map((r) => r.answer));
    const report = await canary.stop();

    for (const a of hugeAnswers) expect(a.text).toMatch(/^HTTP\/1\.1 413 /);
    // Node answers 408 when the request timeout expires mid-body, then closes.
    for (const a of stalledAnswers) {
      expect(a.text).toMatch(/^HTTP\/1\.1 408 /);
      expect(a.closedAfterMs).toBeLessThan(timeouts.requestMs + 3000);
    }
    // Stated bound: ten half bodies under the cap, plus 8 MB of slack (the unbounded reader held 420 MB).
    expect(held).toBeLessThan(10 * limits.maxBodyBytes + 8 * 1024 * 1024);
    expect(report.echoed).toBe(report.sent);
    expect(report.sent).toBeGreaterThan(10);
    expect(report.maxMs).toBeLessThan(500);
  });

  test('an idle connection and one that trickles its headers are dropped at the header timeout (408), as on the WebSocket port', async () => {
    const canary = await Canary.start(echoUrl());
    const idle = rawRequest('');
    const slow = rawRequest('GET /connections HTTP/1.1\r\n');
    const trickle = setInterval(() => slow.socket.write('X-Slow: 1\r\n'), 200);
    const [idleAnswer, slowAnswer] = await Promise.all([idle.answer, slow.answer]);
    clearInterval(trickle);
    const report = await canary.stop();
    expect(slowAnswer.text).toMatch(/^HTTP\/1\.1 408 /);
    for (const a of [idleAnswer, slowAnswer]) expect(a.closedAfterMs).toBeLessThan(timeouts.headersMs + 3000);
    expect(report.echoed).toBe(report.sent);
    expect(report.maxMs).toBeLessThan(500);
  });

  test('a client that aborts mid-body is logged at debug, without a stack or an error line', async () => {
    logLines.length = 0;
    const aborted = rawRequest(post(1000), Buffer.alloc(10, 0x61));
    await new Promise((resolve) => setTimeout(resolve, 200));
    aborted.socket.destroy();
    await aborted.answer;
    await new Promise((resolve) => setTimeout(resolve, 200));
    const line = logLines.find((l) => l.msg === 'control API request aborted by the client');
    expect(line).toMatchObject({ level: 20, url: '/broadcast' });
    expect(JSON.stringify(line)).not.toContain('stack');
    expect(logLines.filter((l) => (l.level as number) >= 50)).toEqual([]);
  });

  test('a body over WebSocketControlMaxPayload is 413 even without Content-Length; one at the limit is sent', async () => {
    const over = rawRequest(`POST /broadcast HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = Buffer.alloc(limits.maxBodyBytes + 1, 0x62);
    over.socket.write(`${chunk.length.toString(16)}\r\n`);
    over.socket.write(chunk);
    over.socket.write('\r\n0\r\n\r\n');
    expect((await over.answer).text).toMatch(/^HTTP\/1\.1 413 /);
    // A binary body between the payload cap and the body cap: refused on the payload's size.
    const justOver = await fetch(`http://127.0.0.1:${api.address.port}/broadcast`, { method: 'POST', body: Buffer.alloc(limits.maxPayloadBytes + 1), headers: { 'content-type': 'application/octet-stream' } });
    expect(justOver.status).toBe(413);
    const atLimit = await fetch(`http://127.0.0.1:${api.address.port}/broadcast?location=/nowhere`, { method: 'POST', body: Buffer.alloc(limits.maxPayloadBytes), headers: { 'content-type': 'application/octet-stream' } });
    expect(atLimit.status).toBe(200);
  });

  test('the line protocol: a 15-digit length prefix is a clear ERR and the socket closes; the canary keeps echoing', async () => {
    const canary = await Canary.start(echoUrl());
    const answer = await converse(live.socketPath, 'PING\nSENDB x 999999999999999\nPING\n', 3);
    const report = await canary.stop();
    expect(answer).toEqual([
      'OK PONG',
      'ERR MESSAGE_TOO_BIG payload of 999999999999999 bytes announced, more than the 1048576 allowed (WebSocketControlMaxPayload); closing, as the bytes that follow cannot be told from commands',
    ]);
    expect(report.echoed).toBe(report.sent);
  });
});
