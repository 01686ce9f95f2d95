// What a worker counted survives its death: the supervisor fetches the workers' counters every few
// seconds (not only at scrapes), and a worker that is gone has its last counters kept. A real
// `wsgate serve` with 2 workers, a workload, no scrape, a SIGKILL, then the first scrape.
import { join } from 'node:path';
import type WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClient } from '../cluster/ws-client.js';
import { repoRoot } from '../native/helpers.js';
import { logLines, stopAll, waitForLog, type ServeProcess } from '../server/spawned-serve.js';
import { httpGet, samples, serveForMetrics } from './scrape.js';

describe('counters of a worker that dies', { timeout: 60_000 }, () => {
  let served: ServeProcess;
  let base: string;
  let metricsAt: string;

  beforeAll(async () => {
    const gateway = await serveForMetrics('dead-worker', (dir) =>
      `Listen 127.0.0.1:0\nWebSocketWorkers 2\nWebSocketControlSocket ${join(dir, 'control.sock')}\nWebSocketMetricsListen 127.0.0.1:0\n` +
        `<Location /echo>\n  SetHandler websocket-handler\n  WebSocketHandler ${join(repoRoot, 'handlers/echo.mjs')}\n</Location>\n`,
    );
    ({ served, ws: base } = gateway);
    metricsAt = gateway.metricsAt!;
  });
  const opened: WebSocket[] = [];
  afterAll(() => {
    for (const ws of opened) ws.terminate();
    stopAll();
  });

  it('are kept as of the last refresh (every 5 s), though no scrape came before the crash', async () => {
    const client = await openClient(`${base}/echo`, opened);
    for (let i = 0; i < 7; i++) {
      client.ws.send(`m${i}`);
      await expect.poll(() => client.messages.length).toBe(i + 1);
    }
    // Both workers die (whichever held the connection), after the supervisor's refresh.
    const pids = logLines(served).filter((l) => l.msg === 'worker ready').map((l) => l.workerPid as number);
    expect(pids).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 6_000));
    const closed = client.closed;
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await closed;
    await waitForLog(served, 'worker ready', {}, 4);

    const m = samples((await httpGet(metricsAt, '/metrics')).body);
    expect(m.get('wsgate_messages_received_total{location="/echo"}')).toBe(7);
    expect(m.get('wsgate_messages_sent_total{location="/echo"}')).toBe(7);
  });
});
