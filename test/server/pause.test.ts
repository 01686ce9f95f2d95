// conn.pause()/resume() (flow control, as ws's): while paused the gateway reads nothing more from
// the client; what the client sends meanwhile is handled after resume(), in order.
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { endpoint, fixture, gatewayConfig, testLog } from './config-fixture.js';
import { wsUrl } from './helpers.js';

let gw: RunningGateway;

beforeAll(async () => {
  gw = await startGateway(gatewayConfig([endpoint('/pause', { handler: fixture('behaviours.mjs', 'pauser') })]), { log: testLog });
});

afterAll(() => gw.close());

it('a paused connection handles nothing until resume(), then everything it was sent, in order', async () => {
  const ws = new WebSocket(wsUrl(gw, '/pause'), { perMessageDeflate: false });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const got: Array<{ text: string; at: number }> = [];
  const all = new Promise<void>((resolve) =>
    ws.on('message', (data) => {
      got.push({ text: data.toString(), at: performance.now() });
      if (got.length === 5) resolve();
    }),
  );
  ws.send('pause:300');
  await new Promise((resolve) => setTimeout(resolve, 50)); // 'pause:300' is read alone, then reading stops
  const sentAt = performance.now();
  ws.send('one');
  ws.send('two');
  ws.send('three');
  await all;
  expect(got.map((m) => m.text)).toEqual(['paused', 'resumed', 'one', 'two', 'three']);
  // Sent 50 ms into a 300 ms pause: not handled before the pause ended.
  expect(got[2]!.at - sentAt).toBeGreaterThan(200);
  ws.close();
});
