// The native plugins' queue depth on /metrics (issue 15): a real `wsgate serve` with 2 worker
// processes and the probe plugin. A client that never reads asks for a flood of small messages,
// which the plugin queues in the helper faster than the gateway's per-turn slices take them: the
// gauges (summed over the workers) show the queue while it is there and go back to 0 once the
// gateway took everything, and again after a queue that overflowed was discarded.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNative, compileFixture } from '../native/helpers.js';
import { stopAll } from '../server/spawned-serve.js';
import { httpGet, samples, serveForMetrics } from './scrape.js';

const FLOOD = 400_000;
const SIZE = 16;

async function scrape(address: string): Promise<string> {
  const answer = await httpGet(address, '/metrics');
  if (answer.status !== 200) throw new Error(`/metrics answered ${answer.status}`);
  return answer.body;
}

/** The two gauges of one scrape (undefined: no sample, i.e. no worker hosts a native plugin). */
async function depth(address: string): Promise<{ messages: number | undefined; bytes: number | undefined }> {
  const text = await scrape(address);
  const values = samples(text);
  return { messages: values.get('wsgate_native_queue_messages'), bytes: values.get('wsgate_native_queue_bytes') };
}

/** Scrapes until `check` holds (15 s at most); every scrape's reading goes to `seen`. */
async function scrapeUntil(address: string, check: (d: { messages: number; bytes: number }) => boolean, seen: Array<{ messages: number; bytes: number }>, what: string) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const d = await depth(address);
    const reading = { messages: d.messages ?? -1, bytes: d.bytes ?? -1 };
    seen.push(reading);
    if (check(reading)) return reading;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last scrapes ${JSON.stringify(seen.slice(-5))}`);
  }
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('native plugin queue depth on /metrics', { timeout: 90_000 }, () => {
  let ws: string;
  let metricsAt: string;

  beforeAll(async () => {
    buildNative();
    const probe = compileFixture('probe');
    const gateway = await serveForMetrics('native-queue', () =>
      `Listen 127.0.0.1:0
WebSocketWorkers 2
WebSocketMetricsListen 127.0.0.1:0
<Location /probe>
  SetHandler websocket-handler
  WebSocketHandler ${probe} probe_init
  WebSocketSendQueueLimit 268435456
</Location>
<Location /small>
  SetHandler websocket-handler
  WebSocketHandler ${probe} probe_init
  WebSocketSendQueueLimit 65536
  WebSocketCloseTimeout 1
</Location>
`,
    );
    ws = gateway.ws;
    metricsAt = gateway.metricsAt!;
  });
  afterAll(() => stopAll());

  it('shows a non-reading client\'s flood while the plugin\'s queue holds it, then 0', async () => {
    // Before any client: the workers host the plugin, so the gauges are there and 0.
    expect(await depth(metricsAt)).toEqual({ messages: 0, bytes: 0 });
    const client = await open(`${ws}/probe`);
    client.pause(); // never reads: the gateway's side of the socket fills too
    client.send(`flood:${FLOOD}:${SIZE}`);
    const seen: Array<{ messages: number; bytes: number }> = [];
    const queued = await scrapeUntil(metricsAt, (d) => d.messages > 0, seen, 'a queued flood');
    expect(queued.messages).toBeLessThanOrEqual(FLOOD);
    expect(queued.bytes).toBe(queued.messages * SIZE);
    await scrapeUntil(metricsAt, (d) => d.messages === 0, seen, 'the queue to empty');
    expect(seen.at(-1)).toEqual({ messages: 0, bytes: 0 });
    // The depth only fell on the way (the gateway takes the queue in order, nothing is added).
    const counts = seen.filter((d) => d.messages > 0).map((d) => d.messages);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    client.terminate();
  });

  it('returns to 0 when a queue that overflowed is discarded with its connection', async () => {
    const client = await open(`${ws}/small`);
    client.pause();
    const closed = new Promise<number>((resolve) => client.once('close', (code) => resolve(code)));
    // 100,000 × 1 KiB against a 64 KiB cap: the plugin's queue overflows, 1008, the rest is dropped.
    client.send('flood:100000:1024');
    client.resume();
    expect(await closed).toBe(1008);
    const seen: Array<{ messages: number; bytes: number }> = [];
    await scrapeUntil(metricsAt, (d) => d.messages === 0 && d.bytes === 0, seen, 'the discarded queue');
  });
});
