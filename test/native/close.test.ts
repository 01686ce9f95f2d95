// A plugin's send(MESSAGE_TYPE_CLOSE, buf, n) over real sockets: buf is the close payload the
// client sees (code + reason), from any thread, after everything sent before it; invalid payloads
// become the documented valid close and a warning naming the plugin.
import koffi from 'koffi';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { INVALID_CLOSE_REASON } from '../../src/plugins/native/close-payload.js';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { buildNative, compileFixture, connect, nativeConfig, type Client } from './helpers.js';

let gateway: RunningGateway;
let url: string;
let closerPath: string;
let closeResult: () => number;
let afterResult: () => number;
const logLines: Array<{ msg: string; plugin?: string; conn?: string }> = [];

beforeAll(async () => {
  buildNative();
  closerPath = compileFixture('closer');
  const log = pino({ level: 'warn' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
  gateway = await startGateway(
    nativeConfig([
      { location: '/swarm', path: closerPath, init: 'swarm_init' },
      { location: '/closer', path: closerPath, init: 'closer_init' },
    ]),
    { log },
  );
  url = `ws://127.0.0.1:${gateway.addresses[0]!.port}`;
  // The library the gateway's helper opened (dlopen returns the loaded copy): read what send returned.
  const closer = koffi.load(closerPath);
  closeResult = closer.func('long closer_close_result(void)') as () => number;
  afterResult = closer.func('long closer_after_result(void)') as () => number;
});

afterAll(async () => {
  await gateway?.close();
});

const hex = (bytes: Buffer | string): string => Buffer.from(bytes).toString('hex');
const payload = (code: number, reason: Buffer | string = ''): string => hex(Buffer.concat([Buffer.from([code >> 8, code & 255]), Buffer.from(reason)]));

interface Ending {
  code: number;
  reason: string;
  wasClean: boolean;
}

/** Connects, keeps the close event's wasClean, and resolves when the connection ended. */
async function open(path: string, headers: Record<string, string> = {}): Promise<{ client: Client; ended: Promise<Ending> }> {
  const client = await connect(`${url}${path}`, [], headers);
  const ended = new Promise<Ending>((resolve) =>
    client.ws.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean })),
  );
  return { client, ended };
}

/** The closer plugin sends close with `hexPayload` from on_message (JS thread). */
async function closerCloses(hexPayload: string, type?: number): Promise<Ending & { texts: string[] }> {
  const { client, ended } = await open('/closer');
  client.ws.send(type === undefined ? `close:${hexPayload}` : `type:${type}:${hexPayload}`);
  const end = await ended;
  return { ...end, texts: client.texts() };
}

/** What was logged (warn and above) since `count` lines; tests run one at a time. */
const warningsSince = (count: number) => logLines.slice(count);

describe('from plugin threads (swarm_init: 10 threads × 1,000 texts, the last one closes)', () => {
  test('all 10,000 messages in per-thread order, then a clean close with 1000', async () => {
    const { client, ended } = await open('/swarm');
    const end = await ended;
    expect(end).toEqual({ code: 1000, reason: '', wasClean: true });
    const texts = client.texts();
    expect(texts.length).toBe(10_000);
    for (let t = 0; t < 10; t++) {
      const fromThread = texts.filter((s) => s.startsWith(`T${t}:`));
      expect(fromThread).toEqual(Array.from({ length: 1000 }, (_, seq) => `T${t}:${seq}`));
    }
  });

  test('4001 with a reason from a thread reaches the client exactly', async () => {
    const { client, ended } = await open('/swarm', { 'X-Close': payload(4001, 'threads done ✓') });
    expect(await ended).toEqual({ code: 4001, reason: 'threads done ✓', wasClean: true });
    expect(client.messages.length).toBe(10_000);
  });

  test('an invalid payload from a thread closes with 1011 after all messages', async () => {
    const { client, ended } = await open('/swarm', { 'X-Close': '03' });
    expect(await ended).toEqual({ code: 1011, reason: INVALID_CLOSE_REASON, wasClean: true });
    expect(client.messages.length).toBe(10_000);
  });
});

describe('from on_message (closer_init)', () => {
  test('4001 + reason reaches the client exactly; send returns the size, later sends 0', async () => {
    const reason = 'session expired (ünïcødé ✓)';
    const end = await closerCloses(payload(4001, reason));
    expect(end).toMatchObject({ code: 4001, reason, wasClean: true });
    expect(end.texts).toEqual([]); // "after" was refused
    expect(closeResult()).toBe(2 + Buffer.byteLength(reason));
    expect(afterResult()).toBe(0);
  });

  test('the two bytes 0x0F 0xA1 alone: code 4001, no reason', async () => {
    expect(await closerCloses('0fa1')).toMatchObject({ code: 4001, reason: '', wasClean: true });
  });

  test('1000 without a reason is a clean normal close', async () => {
    expect(await closerCloses('03e8')).toMatchObject({ code: 1000, reason: '', wasClean: true });
  });

  test('an unknown send type acts as CLOSE with its payload', async () => {
    expect(await closerCloses(payload(4002, 'other type'), 999)).toMatchObject({ code: 4002, reason: 'other type' });
  });

  test('send(CLOSE, NULL, 0) is an empty close (1005) and returns 0', async () => {
    expect(await closerCloses('')).toMatchObject({ code: 1005, reason: '', wasClean: true });
    expect(closeResult()).toBe(0);
    expect(afterResult()).toBe(0);
  });

  test('close() still sends an empty close (1005)', async () => {
    const { client, ended } = await open('/closer');
    client.ws.send('close()');
    expect(await ended).toEqual({ code: 1005, reason: '', wasClean: true });
  });
});

describe('invalid payloads never reach the wire as given', () => {
  test('1 byte → 1011 and a warning naming the plugin', async () => {
    const before = logLines.length;
    const end = await closerCloses('03');
    expect(end).toMatchObject({ code: 1011, reason: INVALID_CLOSE_REASON, wasClean: true });
    expect(closeResult()).toBe(1);
    const warnings = warningsSince(before);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.plugin).toBe(`${closerPath} closer_init`);
    expect(warnings[0]!.msg).toMatch(/1-byte close payload.*1011/);
  });

  test.each([0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])('code %i may not be sent → 1011', async (code) => {
    const before = logLines.length;
    expect(await closerCloses(payload(code, 'why'))).toMatchObject({ code: 1011, reason: INVALID_CLOSE_REASON, wasClean: true });
    expect(warningsSince(before).map((w) => w.msg)).toEqual([`native plugin sent close code ${code}, which may not be sent: closing with 1011`]);
  });

  test('a reason that is not UTF-8 is dropped; the code is kept', async () => {
    const before = logLines.length;
    const end = await closerCloses(payload(4001, Buffer.from([0x6f, 0x6b, 0xff, 0xfe])));
    expect(end).toMatchObject({ code: 4001, reason: '', wasClean: true });
    expect(warningsSince(before).map((w) => w.msg)).toEqual(['native plugin sent a close reason that is not valid UTF-8: sending code 4001 without it']);
  });

  test('a payload over 125 bytes keeps the code and cuts the reason to 123 bytes', async () => {
    const before = logLines.length;
    const end = await closerCloses(payload(4001, 'r'.repeat(300)));
    expect(end).toMatchObject({ code: 4001, reason: 'r'.repeat(123), wasClean: true });
    expect(closeResult()).toBe(302);
    expect(warningsSince(before).map((w) => w.msg)).toEqual(['native plugin sent a close payload over 125 bytes: reason cut to 123 bytes']);
  });

  test('the cut of an over-long reason falls on a character boundary', async () => {
    // 'é' is 2 bytes: 123 bytes would end inside the 62nd one.
    expect(await closerCloses(payload(1000, 'é'.repeat(100)))).toMatchObject({ code: 1000, reason: 'é'.repeat(61), wasClean: true });
  });
});
