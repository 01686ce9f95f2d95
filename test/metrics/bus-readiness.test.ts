// Readiness and metrics follow the cluster bus: a real `wsgate serve` (WebSocketWorkers 0, so the
// one-process mode is covered too) on a private redis-server that is killed and started again.
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/control/probe.js';
import { repoRoot } from '../native/helpers.js';
import { RedisServer, redisMissing, skipRedis } from '../registry/redis-server.js';
import { stopAll, waitForLog, type ServeProcess } from '../server/spawned-serve.js';
import { httpGet, samples, serveForMetrics } from './scrape.js';

const get = httpGet;
const sample = (text: string, name: string): number | undefined => samples(text).get(name);

/** Polls `path` until it answers `status` (10 s at most). */
async function until(base: string, path: string, status: number): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await get(base, path);
    if (r.status === status || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe.skipIf(skipRedis)(`readiness with WebSocketClusterRedis, one process ${redisMissing ?? ''}`, { timeout: 60_000 }, () => {
  let redis: RedisServer;
  let served: ServeProcess;
  let api: string;
  let ws: string;

  beforeAll(async () => {
    redis = await RedisServer.start();
    const gateway = await serveForMetrics('bus-ready', () =>
      `Listen 127.0.0.1:0
WebSocketWorkers 0
WebSocketControlListen 127.0.0.1:0
WebSocketClusterRedis ${redis.url}
WebSocketClusterName ready${process.pid}
WebSocketNodeName n1
<Location /echo>
  SetHandler websocket-handler
  WebSocketHandler ${join(repoRoot, 'handlers/echo.mjs')}
</Location>
`,
    );
    ({ served, ws } = gateway);
    api = gateway.api!;
  });
  afterAll(async () => {
    stopAll();
    await redis?.stop();
  });

  it('is ready with the bus, 503 while Redis is down, ready again once it is back', async () => {
    const ready = await get(api, '/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body).checks).toEqual([
      { name: 'listeners', ok: true, detail: expect.stringMatching(/^1 of 1 bound: /) },
      { name: 'handlers', ok: true, detail: 'loaded' },
      { name: 'cluster bus', ok: true, detail: `connected (cluster ready${process.pid}, node n1)` },
    ]);
    expect(sample((await get(api, '/metrics')).body, 'wsgate_cluster_bus_up')).toBe(1);

    await redis.stop();
    const down = await until(api, '/readyz', 503);
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body)).toMatchObject({ status: 'not ready' });
    expect(JSON.parse(down.body).checks[2]).toEqual({ name: 'cluster bus', ok: false, detail: `Redis unreachable (cluster ready${process.pid}, node n1)` });
    expect(sample((await get(api, '/metrics')).body, 'wsgate_cluster_bus_up')).toBe(0);
    const status = JSON.parse((await get(api, '/status')).body) as StatusReport;
    expect(status).toMatchObject({ mode: 'single', ready: false, workers: [], bus: { cluster: `ready${process.pid}`, node: 'n1', connected: false } });

    await redis.restart();
    expect((await until(api, '/readyz', 200)).status).toBe(200);
    expect(sample((await get(api, '/metrics')).body, 'wsgate_cluster_bus_up')).toBe(1);
  });

  it('counts connections in the one process', async () => {
    const client = new WebSocket(`${ws}/echo`);
    await new Promise((r) => client.once('open', r));
    const text = (await get(api, '/metrics')).body;
    expect(sample(text, 'wsgate_handshakes_total{status="101"}')).toBe(1);
    expect(sample(text, 'wsgate_connections{location="/echo",version="13"}')).toBe(1);
    expect(sample(text, 'wsgate_workers_unanswered')).toBe(0);
    client.close();
    await waitForLog(served, 'disconnected');
    expect(sample((await get(api, '/metrics')).body, 'wsgate_close_frames_received_total{code="1005"}')).toBe(1);
  });
});
