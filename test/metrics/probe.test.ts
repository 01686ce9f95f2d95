// The service probe on its own: readiness from each check, and a worker that does not answer a
// scrape is counted (and named on the status page) instead of being waited for.
import { afterEach, describe, expect, it } from 'vitest';
import { createServiceProbe, type ServiceView, type WorkerView } from '../../src/metrics/service.js';
import { ServiceCounters } from '../../src/metrics/service-counters.js';
import { answerMetricsRequests, WorkerReports } from '../../src/metrics/worker-reports.js';
import { GatewayStats } from '../../src/server/stats.js';
import { deafPort, portPair } from '../registry/ports.js';

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

function worker(id: number, state = 'ready', handlersLoaded = true): WorkerView {
  return { id, name: `w${id}`, slot: id - 1, generation: 1, pid: 1000 + id, state, uptimeMs: 5000, handlersLoaded };
}

function view(overrides: Partial<ServiceView>): ServiceView {
  return {
    mode: 'workers',
    counters: new ServiceCounters(),
    listeners: () => ({ bound: ['127.0.0.1:8080'], expected: 1 }),
    workers: () => [worker(1), worker(2)],
    generation: () => 1,
    expectedWorkers: 2,
    bus: undefined,
    control: () => ({ socket: '/run/wsgate/control.sock', http: null, metrics: null }),
    ...overrides,
  };
}

describe('readiness', () => {
  it('is ready when every check passes', async () => {
    const report = await createServiceProbe(view({})).readiness();
    expect(report).toEqual({
      ok: true,
      checks: [
        { name: 'listeners', ok: true, detail: '1 of 1 bound: 127.0.0.1:8080' },
        { name: 'workers', ok: true, detail: '2 of 2 ready (generation 1)' },
        { name: 'handlers', ok: true, detail: 'loaded in 2 of 2 ready workers' },
      ],
    });
  });

  it('is not ready while a listener is missing', async () => {
    const report = await createServiceProbe(view({ listeners: () => ({ bound: ['127.0.0.1:8080'], expected: 2 }) })).readiness();
    expect(report.ok).toBe(false);
    expect(report.checks[0]).toEqual({ name: 'listeners', ok: false, detail: '1 of 2 bound: 127.0.0.1:8080' });
  });

  it('is not ready while a worker of the current generation is starting, or the bus is down', async () => {
    const starting = await createServiceProbe(view({ workers: () => [worker(1), worker(3, 'starting')] })).readiness();
    expect(starting.ok).toBe(false);
    expect(starting.checks[1]).toEqual({ name: 'workers', ok: false, detail: '1 of 2 ready (generation 1)' });

    let up = false;
    const bus = { cluster: 'shop', node: 'web-1', connected: () => up };
    const probe = createServiceProbe(view({ bus }));
    expect((await probe.readiness()).checks[3]).toEqual({ name: 'cluster bus', ok: false, detail: 'Redis unreachable (cluster shop, node web-1)' });
    up = true;
    expect(await probe.readiness()).toMatchObject({ ok: true });
  });
});

describe('a worker that does not answer', () => {
  it('is counted by wsgate_workers_unanswered and named on the status page; the others are summed', async () => {
    const reports = new WorkerReports();
    const [supervisorSide, workerSide] = portPair();
    closers.push(() => supervisorSide.close());
    reports.attach(1, supervisorSide);
    reports.attach(2, deafPort());
    const stats = new GatewayStats(['/echo']);
    stats.answered(101);
    stats.answered(101);
    stats.answered(403);
    answerMetricsRequests(workerSide, () => stats.snapshot([]));
    const probe = createServiceProbe(view({ reports, deadlineMs: 200 }));
    probe.onCommand('list', 'ok');

    const { contentType, body } = await probe.metrics();
    expect(contentType).toMatch(/^text\/plain/);
    const lines = body.split('\n');
    expect(lines).toContain('wsgate_workers_unanswered 1');
    expect(lines).toContain('wsgate_handshakes_total{status="101"} 2');
    expect(lines).toContain('wsgate_handshakes_total{status="403"} 1');
    expect(lines).toContain('wsgate_control_commands_total{verb="list",result="ok"} 1');
    expect(lines).toContain('wsgate_workers{state="ready"} 2');

    const status = await probe.status();
    expect(status.unanswered).toEqual(['w2']);
    expect(status.workers.map((w) => [w.name, w.connections])).toEqual([
      ['w1', 0],
      ['w2', null],
    ]);
    expect(status.handshakes).toEqual({ '101': 2, '403': 1 });
  });
});
