// A native plugin's queue is capped by its Location's WebSocketSendQueueLimit, through the real
// gateway (the adapter alone is tested in adapter.test.ts): the gateway once loaded handlers
// without their settings, and every plugin queue got the 16 MiB default.
import koffi from 'koffi';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { endpoint, gatewayConfig, testLog } from '../server/config-fixture.js';
import { buildNative, compileFixture, nativeSpec, until } from './helpers.js';

const LIMIT = 64 * 1024;
let gateway: RunningGateway;
let probeFloodZeroAt: () => number;

beforeAll(async () => {
  buildNative();
  const so = compileFixture('probe');
  gateway = await startGateway(gatewayConfig([endpoint('/probe', { handler: nativeSpec(so, 'probe_init'), settings: { sendQueueLimit: LIMIT } })]), {
    log: testLog,
  });
  // The library the gateway's helper opened (dlopen returns the loaded copy): the plugin's counter.
  probeFloodZeroAt = koffi.load(so).func('long probe_flood_zero_at(void)') as () => number;
});

afterAll(async () => {
  await gateway?.close();
});

test('the plugin queue refuses the send that would pass WebSocketSendQueueLimit, and the client sees 1008', async () => {
  const client = new WebSocket(`ws://127.0.0.1:${gateway.addresses[0]!.port}/probe`, { perMessageDeflate: false });
  await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
  const closed = new Promise<number>((resolve) => client.once('close', (code) => resolve(code)));
  client.send('flood:2000:1024');
  await until(() => probeFloodZeroAt() >= 0, 5000, 'a refused send');
  // Each queued frame also counts its bookkeeping (sizeof(queued_item), 16 bytes on LP64).
  expect(probeFloodZeroAt()).toBe(Math.floor(LIMIT / (1024 + 16)));
  expect(await closed).toBe(1008);
});
