// Broadcasts are written in slices (issue 14/16): the broadcast queues one shared frame per
// recipient and the output scheduler writes them a few milliseconds per event-loop turn. These
// tests hold the promises that come with it: nothing overtakes a waiting broadcast frame on its
// connection, other clients are served during a 10,000-connection burst, a reader that does not
// read still gets its 1008, and a connection that goes away with frames waiting is simply dropped.
// The 10,000 recipients live in a child process (its file limit and its event loop are its own).
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { outputScheduler } from '../../src/server/output-scheduler.js';
import type { WsConnection } from '../../src/server/connection.js';
import { openWebSocket } from '../conformance/raw-client.js';
import { connectClient } from '../control/ws-clients.js';
import { endpoint, gatewayConfig, testLog } from './config-fixture.js';
import { ensureFileLimit } from '../file-limit.js';
import { hybiRequest, RawClient, wsUrl } from './helpers.js';

const BULK = 10_000;
const KiB = 1024;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The recipients' process: opens `count` raw WebSocket connections and counts the frames they
 *  receive (all of them together); answers the parent's commands over IPC. */
const BULK_CLIENTS = String.raw`
const net = require('node:net');
const { port, path, count } = JSON.parse(process.env.WSGATE_BULK);
const request = 'GET ' + path + ' HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
let frames = 0;
let waiting;
const sockets = [];
function check() {
  if (waiting && frames >= waiting.total) { clearTimeout(waiting.timer); waiting = undefined; process.send({ frames }); }
}
function openOne() {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let pending = Buffer.alloc(0);
    let open = false;
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      if (!open) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!pending.subarray(0, 12).toString().startsWith('HTTP/1.1 101')) return reject(new Error(pending.toString()));
        open = true;
        pending = pending.subarray(end + 4);
        resolve(socket);
      }
      for (;;) {
        if (pending.length < 2) break;
        let length = pending[1] & 127, header = 2;
        if (length === 126) { if (pending.length < 4) break; length = pending.readUInt16BE(2); header = 4; }
        else if (length === 127) { if (pending.length < 10) break; length = Number(pending.readBigUInt64BE(2)); header = 10; }
        if (pending.length < header + length) break;
        frames++;
        pending = pending.subarray(header + length);
      }
      check();
    });
    sockets.push(socket);
  });
}
process.on('message', async (m) => {
  try {
    if (m.cmd === 'open') {
      let next = 0;
      const worker = async () => { while (next < count) { next++; await openOne(); } };
      await Promise.all(Array.from({ length: 100 }, worker));
      process.send({ opened: sockets.length });
    } else if (m.cmd === 'wait') {
      waiting = { total: m.total, timer: setTimeout(() => { waiting = undefined; process.send({ error: frames + ' of ' + m.total + ' frames' }); }, m.timeoutMs) };
      check();
    }
  } catch (err) {
    process.send({ error: String(err && err.message) });
  }
});
`;

class BulkClients {
  /** Frames the recipients have been sent so far (what `wait` waits for). */
  expected = 0;
  private readonly answers: Array<(m: { error?: string }) => void> = [];

  constructor(private readonly child: ChildProcess) {
    child.on('message', (m: { error?: string }) => this.answers.shift()?.(m));
  }

  static start(port: number, path: string, count: number): BulkClients {
    const child = spawn(process.execPath, ['-e', BULK_CLIENTS], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, WSGATE_BULK: JSON.stringify({ port, path, count }) },
    });
    return new BulkClients(child);
  }

  private call(message: object): Promise<void> {
    return new Promise((resolve, reject) => {
      this.answers.push((m) => (m.error !== undefined ? reject(new Error(`bulk clients: ${m.error}`)) : resolve()));
      this.child.send(message);
    });
  }

  open(): Promise<void> {
    return this.call({ cmd: 'open' });
  }

  /** Until every frame sent so far has arrived. */
  received(timeoutMs = 60_000): Promise<void> {
    return this.call({ cmd: 'wait', total: this.expected, timeoutMs });
  }

  stop(): void {
    this.child.kill();
  }
}

describe('sliced broadcast delivery', () => {
  let gw: RunningGateway;
  let port: number;
  let bulk: BulkClients;

  beforeAll(async () => {
    // The gateway here holds BULK server sockets, the child their clients (it inherits the limit).
    ensureFileLimit(BULK + 1000);
    gw = await startGateway(
      gatewayConfig([
        // The raw bulk clients offer no extension; the ws clients here get permessage-deflate.
        endpoint('/bulk', { settings: { compression: true, connectionLog: false, handshakeTimeout: 60 } }),
        endpoint('/echo'),
        endpoint('/slow', { settings: { sendQueueLimit: 256 * KiB, closeTimeout: 5 } }),
      ]),
      { log: testLog },
    );
    port = gw.addresses[0]!.port;
    bulk = BulkClients.start(port, '/bulk', BULK);
    await bulk.open();
  }, 180_000);
  afterAll(async () => {
    bulk?.stop();
    await gw?.close();
  });

  const broadcast = (data: string | Buffer, location = '/bulk'): number => {
    const count = gw.registry.local.execute({ op: 'broadcast', filter: { location }, data, isBinary: typeof data !== 'string' }).count;
    if (location === '/bulk') bulk.expected += BULK;
    return count;
  };
  const connection = (id: string): WsConnection => gw.registry.local.get(id)!;

  it('a send, ping or close to a connection whose broadcast frame is still waiting goes behind it', { timeout: 60_000 }, async () => {
    const last = await openWebSocket({ port, path: '/bulk?id=order-plain' });
    expect(broadcast('broadcast 1')).toBe(BULK + 1);
    // Queued, not written: the send right behind must not overtake it.
    expect(outputScheduler.length).toBe(BULK + 1);
    expect(connection('order-plain').send('direct 1')).toBe(true);
    expect(broadcast('broadcast 2')).toBe(BULK + 1);
    await nextTurn();
    // Some slices ran, and the last recipient, last in line, still waits for its turn.
    expect(outputScheduler.length).toBeGreaterThan(0);
    expect(outputScheduler.length).toBeLessThan(BULK + 1);
    const conn = connection('order-plain');
    conn.send('direct 2');
    conn.ping(Buffer.from('p'));
    conn.close(4000, 'bye');
    expect(await last.waitForTcpClose(30_000)).toBe(true);
    expect(last.events.map((e) => (e.kind === 'message' ? e.data.toString() : e.kind === 'ping' ? `ping ${e.data.toString()}` : e.kind === 'close' ? `close ${e.code}` : e.kind))).toEqual([
      'broadcast 1',
      'direct 1',
      'broadcast 2',
      'direct 2',
      'ping p',
      'close 4000',
    ]);
    await bulk.received();
  });

  it('the order holds on a compressed connection, for plain and deflated broadcast frames', { timeout: 60_000 }, async () => {
    const inbox = await connectClient(`${wsUrl(gw, '/bulk')}?id=order-zip`);
    expect(inbox.ws.extensions).toContain('permessage-deflate');
    const big = 'z'.repeat(2 * KiB); // over WebSocketCompressionThreshold: deflated for this client
    broadcast('zip broadcast 1');
    connection('order-zip').send('zip direct 1');
    broadcast(big);
    connection('order-zip').send('zip direct 2');
    broadcast('zip broadcast 3');
    await nextTurn();
    expect(outputScheduler.length).toBeGreaterThan(0);
    connection('order-zip').send('zip direct 3');
    const got: string[] = [];
    for (let i = 0; i < 6; i++) got.push(await inbox.nextText(30_000));
    expect(got).toEqual(['zip broadcast 1', 'zip direct 1', big, 'zip direct 2', 'zip broadcast 3', 'zip direct 3']);
    inbox.ws.close();
    await inbox.closed;
    await bulk.received();
  });

  it('a canary keeps echoing during a burst of broadcasts to 10,000 connections', { timeout: 120_000 }, async () => {
    const canary = await connectClient(wsUrl(gw, '/echo'));
    let running = true;
    let sent = 0;
    let echoed = 0;
    let duringBurst = 0;
    let maxMs = 0;
    const loop = (async () => {
      while (running) {
        const text = `canary ${sent++}`;
        const start = performance.now();
        canary.ws.send(text);
        if ((await canary.nextText(20_000)) === text) echoed++;
        maxMs = Math.max(maxMs, performance.now() - start);
        // The echo came back while broadcast frames were still waiting to be written.
        if (outputScheduler.length > 0) duringBurst++;
      }
    })();
    const message = 'b'.repeat(64);
    for (let i = 0; i < 5; i++) {
      expect(broadcast(message)).toBe(BULK);
      await nextTurn();
    }
    await bulk.received(90_000);
    running = false;
    await loop;
    canary.ws.close();
    expect(echoed).toBe(sent);
    // Before slicing, the loop was blocked for the whole of each broadcast: no echo in between.
    expect(duringBurst).toBeGreaterThan(0);
    // Generous: a loaded CI box; an unsliced burst blocked the loop ~100 ms per broadcast.
    expect(maxMs).toBeLessThan(2000);
  });

  it('a client that does not read still gets its 1008 from broadcasts, seen after what it was sent', { timeout: 60_000 }, async () => {
    const victim = await RawClient.open(port);
    victim.write(hybiRequest('/slow?id=slow-reader'));
    expect(await victim.head()).toMatch(/^HTTP\/1\.1 101 /);
    victim.socket.pause(); // reads nothing from now on
    const message = Buffer.alloc(4 * KiB, 0x61);
    let delivered = 0;
    // Loopback's kernel buffers take a few MB first; each broadcast gets a turn to be written.
    for (let i = 0; i < 20_000; i++) {
      if (broadcast(message.toString(), '/slow') === 0) break;
      delivered++;
      if (i % 8 === 7) await nextTurn();
    }
    expect(delivered).toBeGreaterThan(0);
    expect(delivered).toBeLessThan(20_000);
    victim.socket.resume();
    const closeFrame = Buffer.concat([Buffer.from([0x88, 27, 0x03, 0xf0]), Buffer.from('send queue limit exceeded')]);
    await victim.until((received) => received.subarray(-closeFrame.length).equals(closeFrame), 20_000);
    victim.destroy();
  });

  it('connections that go away while their frames wait are dropped cleanly', { timeout: 60_000 }, async () => {
    const byServer = await openWebSocket({ port, path: '/bulk?id=gone-server' });
    const byClient = await openWebSocket({ port, path: '/bulk?id=gone-client' });
    expect(broadcast('going')).toBe(BULK + 2);
    connection('gone-server').destroy();
    byClient.destroy();
    await bulk.received();
    const deadline = Date.now() + 10_000;
    while ((gw.registry.local.get('gone-server') ?? gw.registry.local.get('gone-client')) !== undefined && Date.now() < deadline) await nextTurn();
    expect(gw.registry.local.get('gone-server')).toBeUndefined();
    expect(gw.registry.local.get('gone-client')).toBeUndefined();
    expect(byServer.messages()).toEqual([]);
    // Nothing is left in line, and the next broadcast reaches exactly the others.
    expect(outputScheduler.length).toBe(0);
    expect(broadcast('after')).toBe(BULK);
    await bulk.received();
  });
});
