// Connection life: close handshakes and timeouts, limits, keepalive, handler failures.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { endpoint, fixture, gatewayConfig, testLog } from './config-fixture.js';
import { clientFrame, closed, hybiRequest, nextMessage, openWs, RawClient, wsUrl } from './helpers.js';

interface TestEvent {
  kind: string;
  id?: string;
  code?: number;
  reason?: string;
  sent?: boolean;
}
const events = (): TestEvent[] => ((globalThis as { __wsgateTestEvents?: TestEvent[] }).__wsgateTestEvents ??= []);

async function eventually<T>(probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const disconnectOf = (id: string) => () => events().find((e) => e.kind === 'disconnect' && e.id === id);

/** Parse one unmasked server frame at the start of buf. */
function serverFrame(buf: Buffer): { opcode: number; payload: Buffer } | undefined {
  if (buf.length < 2) return undefined;
  let len = buf[1]! & 0x7f;
  let offset = 2;
  if (len === 126) {
    len = buf.readUInt16BE(2);
    offset = 4;
  }
  if (buf.length < offset + len) return undefined;
  return { opcode: buf[0]! & 0x0f, payload: buf.subarray(offset, offset + len) };
}

async function rawUpgrade(port: number, path: string, version = '13'): Promise<{ raw: RawClient; bodyStart: number }> {
  const raw = await RawClient.open(port);
  raw.write(hybiRequest(path, {}, version));
  const head = await raw.head();
  expect(head).toMatch(/^HTTP\/1\.1 101 /);
  return { raw, bodyStart: raw.received.indexOf('\r\n\r\n') + 4 };
}

describe('connections', () => {
  let gw: RunningGateway;
  let port: number;
  beforeAll(async () => {
    gw = await startGateway(
      gatewayConfig([
        endpoint('/echo', { handler: fixture('behaviours.mjs', 'echo') }),
        endpoint('/closer', { handler: fixture('behaviours.mjs', 'closer'), settings: { closeTimeout: 0.5 } }),
        endpoint('/faulty', { handler: fixture('behaviours.mjs', 'faulty') }),
        endpoint('/flood', { handler: fixture('behaviours.mjs', 'flood'), settings: { sendQueueLimit: 4 * 1024 * 1024, closeTimeout: 0.5 } }),
        endpoint('/small', { settings: { maxMessageSize: 1024 } }),
        endpoint('/ping', { handler: fixture('behaviours.mjs', 'echo'), settings: { pingInterval: 0.3 } }),
      ]),
      { log: testLog },
    );
    port = gw.addresses[0]!.port;
  });
  afterAll(() => gw.close());
  beforeEach(() => {
    events().length = 0;
  });

  it('client-initiated close: the code is echoed and onDisconnect sees it exactly once', async () => {
    const ws = await openWs(wsUrl(gw, '/echo?id=closing-1'));
    ws.close(4001, 'done here');
    expect(await closed(ws)).toEqual({ code: 4001, reason: '' });
    const event = await eventually(disconnectOf('closing-1'));
    expect(event).toMatchObject({ code: 4001, reason: 'done here' });
    await new Promise((r) => setTimeout(r, 50));
    expect(events().filter((e) => e.kind === 'disconnect' && e.id === 'closing-1')).toHaveLength(1);
  });

  it('server-initiated close: the peer gets the code; send afterwards returns false', async () => {
    const ws = await openWs(wsUrl(gw, '/closer?id=closing-2'));
    ws.send('close 4002 server says bye');
    expect(await closed(ws)).toEqual({ code: 4002, reason: 'server says bye' });
    expect(events().find((e) => e.kind === 'send-after-close')?.sent).toBe(false);
    expect(await eventually(disconnectOf('closing-2'))).toMatchObject({ code: 4002 });
  });

  it('drops TCP after closeTimeout when the peer never answers the close', async () => {
    const { raw, bodyStart } = await rawUpgrade(port, '/closer?id=closing-3');
    // A second message right behind: it was sent before the peer saw our close, so it still reaches the handler.
    raw.write(Buffer.concat([clientFrame(0x1, 'close 4003 x'), clientFrame(0x1, 'close 4004 again')]));
    const started = Date.now();
    await raw.untilClosed(3000);
    expect(raw.ended).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    const frame = serverFrame(raw.received.subarray(bodyStart));
    expect(frame?.opcode).toBe(0x8);
    expect(frame?.payload.readUInt16BE(0)).toBe(4003);
    expect(await eventually(disconnectOf('closing-3'))).toMatchObject({ code: 1006 });
    expect(events().filter((e) => e.kind === 'send-after-close' && e.id === 'closing-3')).toHaveLength(2);
  });

  it('TCP drop without a close frame reports 1006', async () => {
    const ws = await openWs(wsUrl(gw, '/echo?id=dropped'));
    ws.terminate();
    expect(await eventually(disconnectOf('dropped'))).toMatchObject({ code: 1006 });
  });

  it('a handler exception closes that connection with 1011; others live on', async () => {
    const bystander = await openWs(wsUrl(gw, '/faulty'));
    for (const trigger of ['throw', 'reject']) {
      const victim = await openWs(wsUrl(gw, '/faulty'));
      victim.send(trigger);
      expect((await closed(victim)).code).toBe(1011);
    }
    bystander.send('still here');
    expect((await nextMessage(bystander)).data.toString()).toBe('still here');
    bystander.close();
    await closed(bystander);
  });

  it('closes a slow reader with 1008 once the send queue passes WebSocketSendQueueLimit', async () => {
    const { raw, bodyStart } = await rawUpgrade(port, '/flood?id=slow-reader');
    raw.socket.pause(); // never read: the server's queue must grow
    raw.write(clientFrame(0x1, 'flood 64'));
    const event = await eventually(disconnectOf('slow-reader'), 8000);
    expect(event).toMatchObject({ code: 1008, reason: 'send queue limit exceeded' });
    // The connection is gone on the server even though the client never read a byte.
    expect(gw.gateway.get('slow-reader')).toBeUndefined();
    raw.socket.resume();
    await raw.untilClosed(8000);
    expect(raw.received.length - bodyStart).toBeLessThan(64 * 1024 * 1024);
  });

  it('MaxMessageSize closes with 1009 for version 13 and 1004 for version 8', async () => {
    const ws = await openWs(wsUrl(gw, '/small'));
    ws.send(Buffer.alloc(1025));
    expect((await closed(ws)).code).toBe(1009);

    const { raw, bodyStart } = await rawUpgrade(port, '/small', '8');
    // Two fragments of 600 bytes: each fits, the whole message does not.
    raw.write(Buffer.concat([clientFrame(0x2, Buffer.alloc(600), false), clientFrame(0x0, Buffer.alloc(600), true)]));
    await raw.untilClosed(3000);
    const frame = serverFrame(raw.received.subarray(bodyStart));
    expect(frame?.opcode).toBe(0x8);
    expect(frame?.payload.readUInt16BE(0)).toBe(1004);
  });

  it('answers a ping with a pong carrying the same payload', async () => {
    const ws = await openWs(wsUrl(gw, '/echo'));
    const pong = new Promise<Buffer>((resolve) => ws.once('pong', resolve));
    ws.ping('are you there');
    expect((await pong).toString()).toBe('are you there');
    ws.close();
    await closed(ws);
  });

  it('keepalive: pings every interval, keeps a client that answers, drops one that does not', async () => {
    const answering = await openWs(wsUrl(gw, '/ping'));
    let pings = 0;
    answering.on('ping', () => pings++);
    const { raw } = await rawUpgrade(port, '/ping?id=silent'); // never answers pings
    const event = await eventually(disconnectOf('silent'), 3000);
    expect(event).toMatchObject({ code: 1006 });
    await raw.untilClosed(1000);
    expect(raw.ended).toBe(true);
    expect(pings).toBeGreaterThanOrEqual(2);
    expect(answering.readyState).toBe(WebSocket.OPEN);
    answering.close();
    await closed(answering);
  });

  it('a protocol error (unmasked frame) closes with 1002', async () => {
    const { raw, bodyStart } = await rawUpgrade(port, '/echo');
    raw.write(Buffer.from([0x81, 0x02, 0x68, 0x69])); // unmasked "hi"
    await raw.untilClosed(3000);
    const frame = serverFrame(raw.received.subarray(bodyStart));
    expect(frame?.payload.readUInt16BE(0)).toBe(1002);
  });
});
