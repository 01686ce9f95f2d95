// Metrics, health and status of a real `wsgate serve` with 2 worker processes: a scripted workload
// (connects, refusals, messages, closes, a send-queue overflow, handler failures, control
// commands), then /metrics must count exactly that, summed over both workers; /readyz must follow
// a worker that is SIGKILLed; `wsgate status` must show the same gateway (text and --json).
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSocket } from '../../src/control/client.js';
import type { StatusReport } from '../../src/control/probe.js';
import { bin, wsgate } from '../cli/bin.js';
import { runProcess } from '../run-process.js';
import { repoRoot } from '../native/helpers.js';
import { stopAll, waitForLog, type ServeProcess } from '../server/spawned-serve.js';
import { httpGet, samples, serveForMetrics, type HttpAnswer } from './scrape.js';

const workload = join(repoRoot, 'test/fixtures/handlers/metrics-workload.mjs');

function config(socket: string): string {
  return `Listen 127.0.0.1:0
WebSocketWorkers 2
WebSocketControlSocket ${socket}
WebSocketControlListen 127.0.0.1:0
WebSocketMetricsListen 127.0.0.1:0
<Location /echo>
  SetHandler websocket-handler
  WebSocketHandler ${join(repoRoot, 'handlers/echo.mjs')}
</Location>
<Location /boom>
  SetHandler websocket-handler
  WebSocketHandler ${workload} boom
</Location>
<Location /throw>
  SetHandler websocket-handler
  WebSocketHandler ${workload} thrower
</Location>
<Location /flood>
  SetHandler websocket-handler
  WebSocketHandler ${workload} flood
  WebSocketSendQueueLimit 1048576
  WebSocketCloseTimeout 1
</Location>
`;
}

const get = httpGet;

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

function refusedStatus(url: string): Promise<number> {
  return open(url).then(
    (ws) => {
      ws.terminate();
      return 101;
    },
    (err: { status?: number }) => err.status ?? 0,
  );
}

const nextMessage = (ws: WebSocket): Promise<string> => new Promise((r) => ws.once('message', (d) => r(d.toString())));
const closed = (ws: WebSocket): Promise<number> => new Promise((r) => ws.once('close', (code) => r(code)));

describe('metrics, health and status of wsgate serve with 2 workers', { timeout: 60_000 }, () => {
  let served: ServeProcess;
  let ws: string;
  let api: string;
  let metricsAt: string;
  let socket: string;

  beforeAll(async () => {
    const gateway = await serveForMetrics('metrics', (dir) => config((socket = join(dir, 'control.sock'))));
    ({ served, ws } = gateway);
    api = gateway.api!;
    metricsAt = gateway.metricsAt!;
  });
  afterAll(() => stopAll());

  it('counts a scripted workload exactly, summed over both workers', async () => {
    // 3 echo clients, 2 messages each, then a close 1000 (3 × 101).
    const echo = await Promise.all([open(`${ws}/echo`), open(`${ws}/echo`), open(`${ws}/echo`)]);
    for (const client of echo) {
      for (const text of ['hello', 'world']) {
        const reply = nextMessage(client);
        client.send(text);
        expect(await reply).toBe(text);
      }
    }
    await Promise.all(echo.map((client) => {
      const done = closed(client);
      client.close(1000);
      return done;
    }));
    // Refusals: two 404s (WebSocket and plain), one 426, one 500 (onConnect threw).
    expect(await refusedStatus(`${ws}/nowhere`)).toBe(404);
    expect((await get(ws.slice(5), '/nowhere')).status).toBe(404);
    expect((await get(ws.slice(5), '/echo')).status).toBe(426);
    expect(await refusedStatus(`${ws}/boom`)).toBe(500);
    // A handler that throws: closed with 1011 (101, then the client echoes the close).
    const thrower = await open(`${ws}/throw`);
    const thrown = closed(thrower);
    thrower.send('x');
    expect(await thrown).toBe(1011);
    // A client that stops reading while its Location floods it: one overflow (1008).
    const flooded = await open(`${ws}/flood`);
    flooded.pause();
    flooded.send('flood');
    await waitForLog(served, 'send queue limit exceeded');
    flooded.terminate();
    await waitForLog(served, 'disconnected', {}, 5);
    // Control commands: LIST ok, SEND to an unknown id → CONTROL_NOT_FOUND.
    const control = await connectSocket(socket);
    await control.execute({ kind: 'list', detail: false, filter: {} });
    await expect(control.execute({ kind: 'send', id: 'nobody', data: 'x' })).rejects.toThrow(/no open connection/);
    await control.close();

    const scrape = await get(metricsAt, '/metrics');
    expect(scrape.status).toBe(200);
    expect(scrape.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = samples(scrape.body);
    const expected: Record<string, number> = {
      'wsgate_handshakes_total{status="101"}': 5,
      'wsgate_handshakes_total{status="404"}': 2,
      'wsgate_handshakes_total{status="426"}': 1,
      'wsgate_handshakes_total{status="500"}': 1,
      'wsgate_messages_received_total{location="/echo"}': 6,
      'wsgate_messages_sent_total{location="/echo"}': 6,
      // Per client: 2 × (2 + 4 mask + 5) + the close (2 + 4 + 2) in; 2 × (2 + 5) + the close echo (2 + 2) out.
      'wsgate_received_bytes_total{location="/echo"}': 90,
      'wsgate_sent_bytes_total{location="/echo"}': 54,
      'wsgate_messages_received_total{location="/throw"}': 1,
      'wsgate_messages_received_total{location="/flood"}': 1,
      'wsgate_close_frames_sent_total{code="1000"}': 3,
      'wsgate_close_frames_received_total{code="1000"}': 3,
      'wsgate_close_frames_sent_total{code="1011"}': 1,
      'wsgate_close_frames_received_total{code="1011"}': 1,
      'wsgate_close_frames_sent_total{code="1008"}': 1,
      'wsgate_send_queue_overflows_total{location="/flood"}': 1,
      'wsgate_send_queue_overflows_total{location="/echo"}': 0,
      'wsgate_handler_errors_total{location="/boom",callback="onConnect"}': 1,
      'wsgate_handler_errors_total{location="/throw",callback="onMessage"}': 1,
      'wsgate_control_commands_total{verb="list",result="ok"}': 1,
      'wsgate_control_commands_total{verb="send",result="CONTROL_NOT_FOUND"}': 1,
      'wsgate_workers{state="ready"}': 2,
      'wsgate_workers_unanswered': 0,
      'wsgate_worker_restarts_total': 0,
      'wsgate_listeners': 1,
    };
    const actual = Object.fromEntries(Object.keys(expected).map((k) => [k, m.get(k)]));
    expect(actual).toEqual(expected);
    // No connection is open; the flood's 1008 was never answered (the client did not read).
    expect([...m.keys()].filter((k) => k.startsWith('wsgate_connections{'))).toEqual([]);
    expect(m.has('wsgate_close_frames_received_total{code="1008"}')).toBe(false);
    // No cluster configured: no bus gauge. Process metrics of every process, merged.
    expect(m.has('wsgate_cluster_bus_up')).toBe(false);
    expect(m.get('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(m.get('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(m.has('nodejs_eventloop_lag_seconds')).toBe(true);

    // The control API serves the same, and open connections show up per Location and version.
    const live = await open(`${ws}/echo`);
    const fromApi = samples((await get(api, '/metrics')).body);
    expect(fromApi.get('wsgate_connections{location="/echo",version="13"}')).toBe(1);
    expect(fromApi.get('wsgate_handshakes_total{status="101"}')).toBe(6);
    const status = JSON.parse((await get(api, '/status')).body) as StatusReport;
    expect(status.connections).toBe(1);
    expect(status.locations.find((l) => l.location === '/echo')).toMatchObject({ connections: 1, byVersion: { '13': 1 }, messagesIn: 6, messagesOut: 6 });
    live.close(1000);
    await waitForLog(served, 'disconnected', {}, 6);
  });

  it('applies the control API access rules to /metrics, and the metrics address serves nothing else', async () => {
    expect((await get(api, '/metrics', { Origin: 'http://evil.example' })).status).toBe(403);
    expect((await get(metricsAt, '/metrics', { Origin: 'http://evil.example' })).status).toBe(403);
    expect((await get(metricsAt, '/connections')).status).toBe(404);
    expect((await get(metricsAt, '/status')).status).toBe(404);
  });

  it('healthz answers; readyz goes 503 while a worker is missing and 200 again', async () => {
    const health = await get(metricsAt, '/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });
    const ready = await get(metricsAt, '/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({
      status: 'ready',
      checks: [
        { name: 'listeners', ok: true, detail: expect.stringMatching(/^1 of 1 bound: 127\.0\.0\.1:\d+$/) },
        { name: 'workers', ok: true, detail: '2 of 2 ready (generation 1)' },
        { name: 'handlers', ok: true, detail: 'loaded in 2 of 2 ready workers' },
      ],
    });

    const status = JSON.parse((await get(api, '/status')).body) as StatusReport;
    const victim = status.workers[0]!;
    process.kill(victim.pid!, 'SIGKILL');
    await waitForLog(served, 'worker died; replacing it', { workerPid: victim.pid });
    // Poll: the replacement is started 0.1 s later and is ready once it loaded its handlers.
    let notReady: HttpAnswer | undefined;
    for (let i = 0; i < 200 && !notReady; i++) {
      const r = await get(metricsAt, '/readyz');
      if (r.status === 503) notReady = r;
      else await new Promise((res) => setTimeout(res, 5));
    }
    expect(notReady, 'readyz never said 503').toBeDefined();
    const body = JSON.parse(notReady!.body) as { status: string; checks: Array<{ name: string; ok: boolean; detail: string }> };
    expect(body.status).toBe('not ready');
    expect(body.checks.find((c) => c.name === 'workers')).toMatchObject({ ok: false, detail: '1 of 2 ready (generation 1)' });
    await waitForLog(served, 'worker ready', {}, 3);
    expect((await get(metricsAt, '/readyz')).status).toBe(200);
    const m = samples((await get(metricsAt, '/metrics')).body);
    expect(m.get('wsgate_worker_restarts_total')).toBe(1);
    // The dead worker's counters (as last reported) stay in the sums.
    expect(m.get('wsgate_handshakes_total{status="101"}')).toBe(6);
    expect(m.get('wsgate_messages_received_total{location="/echo"}')).toBe(6);
    const after = JSON.parse((await get(api, '/status')).body) as StatusReport;
    expect(after.workers.find((w) => w.slot === victim.slot)).toMatchObject({ restarts: 1, state: 'ready' });
  });

  it('wsgate status prints the page (text and --json) from the live gateway', async () => {
    // The live connection of the first test added a close each way (8 B in, 4 B out) to /echo.
    const text = await wsgate(['status', '--socket', socket]);
    expect(text.code, text.stderr).toBe(0);
    const out = text.stdout;
    expect(out).toMatch(/^wsgate \d+\.\d+\.\d+ status \(pid \d+\)\n/);
    expect(out).toContain('Mode:        2 worker processes, generation 1\n');
    expect(out).toContain('Ready:       yes\n');
    expect(out).toMatch(/\nListeners: {3}127\.0\.0\.1:\d+\n/);
    expect(out).toMatch(/\nConnections: 0 open; handshakes: 101 ×6, 404 ×2, 426 ×1, 500 ×1\n/);
    expect(out).toMatch(/\nLocation +Open +Versions +Msgs in +Msgs out +In\/s +Out\/s +Bytes in +Bytes out\n/);
    expect(out).toMatch(/\n\/echo +0 +- +6 +6 +[\d.]+ +[\d.]+ +98 B +58 B\n/);
    expect(out).toMatch(/\nWorker +PID +State +Gen +Uptime +Restarts +Open\n/);
    expect(out.match(/\nw\d+ +\d+ +ready +1 +\S+( \S+)? +[01] +0(?=\n)/g)).toHaveLength(2);
    expect(out).toContain(`Control:     socket ${socket}; HTTP ${api}; metrics ${metricsAt}\n`);
    expect(out).toContain('Cluster bus: none (one node)\n');

    const json = await wsgate(['status', '--url', `http://${api}`, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as StatusReport;
    expect(report).toMatchObject({ mode: 'workers', ready: true, connections: 0, handshakes: { '101': 6, '404': 2, '426': 1, '500': 1 }, bus: null, unanswered: [] });
    expect(report.workers.map((w) => w.state)).toEqual(['ready', 'ready']);
    expect(report.locations.map((l) => l.location)).toEqual(['/echo', '/boom', '/throw', '/flood']);

    // --watch without a terminal: one page after another, rates of the last interval from the second on.
    const watched = await wsgate(['status', '--socket', socket, '--watch', '0.2', '--count', '2']);
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout).not.toContain('\x1b[');
    expect(watched.stdout.match(/^wsgate \d+\.\d+\.\d+ status/gm)).toHaveLength(2);
    expect(watched.stdout).toContain('(message rates: since start)');
    expect(watched.stdout).toMatch(/\(message rates: last 0\.\d+ s\)/);

    // STATUS is counted like any command: 3 GET /status above, and 4 here.
    const m = samples((await get(metricsAt, '/metrics')).body);
    expect(m.get('wsgate_control_commands_total{verb="status",result="ok"}')).toBe(7);
  });

  it.skipIf(spawnSync('script', ['--version']).status !== 0)('wsgate status --watch redraws in place on a terminal (script(1) gives it a pseudo-terminal)', async () => {
    const command = [process.execPath, bin, 'status', '--socket', socket, '--watch', '0.2', '--count', '2'].map((w) => `'${w}'`).join(' ');
    const r = await runProcess('script', ['-qec', command, '/dev/null'], { timeoutMs: 15_000 });
    expect(r.code, r.stderr).toBe(0);
    const pages = r.stdout.split('\x1b[H\x1b[2J');
    // Each page starts by moving home and clearing the screen: nothing before the first one.
    expect(pages[0]).toBe('');
    expect(pages).toHaveLength(3);
    expect(pages[1]).toMatch(/^wsgate \d+\.\d+\.\d+ status[^]*\(message rates: since start\)/);
    expect(pages[2]).toMatch(/^wsgate \d+\.\d+\.\d+ status[^]*\(message rates: last 0\.\d+ s\)/);
  });

  it('wsgate status names a dead channel and exits 2', async () => {
    const r = await wsgate(['status', '--socket', join(tmpdir(), 'no-such-wsgate.sock')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^wsgate status: cannot connect to control socket .*no such socket file/);
  });
});
