// The ServiceProbe of `wsgate serve`: /metrics, /readyz and STATUS for the process that runs the
// control channel, from what it knows itself (listeners, workers, bus, control counters) and
// what its workers report over the metrics channel (or, with WebSocketWorkers 0, its own gateway).
import { readFileSync } from 'node:fs';
import type { CommandObserver, HealthCheck, HealthReport, LocationStatus, ServiceProbe, StatusReport, WorkerStatus } from '../control/probe.js';
import { mergeSnapshots, type GatewayStatsSnapshot } from '../server/stats.js';
import { ProcessMetrics, type ServiceGauges } from './prom.js';
import type { ServiceCounters } from './service-counters.js';
import type { MetricsReply } from './wire.js';
import type { WorkerReports } from './worker-reports.js';

export interface WorkerView {
  id: number;
  name: string;
  slot: number;
  generation: number;
  pid: number | undefined;
  /** starting, ready, draining, stopping, exited (pool.ts). */
  state: string;
  uptimeMs: number;
  /** It reported its handlers loaded. */
  handlersLoaded: boolean;
}

export interface ServiceView {
  mode: 'workers' | 'single';
  counters: ServiceCounters;
  listeners(): { bound: string[]; expected: number };
  /** Worker processes now; none with WebSocketWorkers 0. */
  workers(): WorkerView[];
  /** The generation new connections go to. */
  generation(): number;
  expectedWorkers: number;
  /** WebSocketWorkers 0: this process's gateway. */
  localStats?: () => GatewayStatsSnapshot;
  reports?: WorkerReports;
  bus: { cluster: string; node: string; connected(): boolean } | undefined;
  control(): StatusReport['control'];
  /** How long a worker has to answer a scrape or STATUS (default 1000 ms). */
  deadlineMs?: number;
  /** How often the workers' counters are fetched between scrapes (default 5000 ms): what a worker
   *  that dies had counted is kept as of then, not as of the last scrape. */
  refreshMs?: number;
}

/** Workers that hold connections and so are asked; starting ones are not (nor counted missing). */
const ASKED_STATES = new Set(['ready', 'draining']);

let version: string | undefined;
function packageVersion(): string {
  // dist/metrics/service.js (or src/metrics/service.ts) → the package root.
  version ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}

export interface RunningProbe extends ServiceProbe {
  onCommand: CommandObserver;
  /** Loads prom-client and starts this process's own metrics (event-loop lag): call once serving,
   *  so start-up does not wait for it. A scrape before that starts them itself. */
  start(): void;
}

export function createServiceProbe(view: ServiceView): RunningProbe {
  const startedAt = Date.now();
  const deadlineMs = view.deadlineMs ?? 1000;
  let loaded: Promise<ProcessMetrics> | undefined;
  // With workers, this process's registry also carries the gateway families: for the counters of
  // workers that are gone (retired below), so a reload or a crash does not make the sums drop.
  const ownMetrics = (): Promise<ProcessMetrics> => (loaded ??= ProcessMetrics.create({ gateway: true, service: true, bus: view.bus !== undefined }));
  /** Each worker's last report, and what the workers that exited had reported last. */
  const lastStats = new Map<number, GatewayStatsSnapshot>();
  let retired: GatewayStatsSnapshot = mergeSnapshots([]);

  const gather = async (withMetrics: boolean): Promise<{ asked: WorkerView[]; replies: Map<number, MetricsReply | undefined> }> => {
    const asked = view.workers().filter((w) => ASKED_STATES.has(w.state));
    const replies = view.reports ? await view.reports.gather(asked.map((w) => w.id), withMetrics, deadlineMs) : new Map<number, MetricsReply | undefined>();
    for (const [id, reply] of replies) if (reply?.stats) lastStats.set(id, reply.stats);
    const alive = new Set(view.workers().map((w) => w.id));
    for (const [id, stats] of lastStats) {
      if (alive.has(id)) continue;
      lastStats.delete(id);
      retired = mergeSnapshots([retired, { ...stats, locations: stats.locations.map((l) => ({ ...l, open: {} })) }]);
    }
    return { asked, replies };
  };

  const gauges = (unanswered: number): ServiceGauges => {
    const workersByState: Record<string, number> = {};
    for (const w of view.workers()) workersByState[w.state] = (workersByState[w.state] ?? 0) + 1;
    return { counters: view.counters, workersByState, unanswered, listeners: view.listeners().bound.length, busUp: view.bus?.connected() };
  };

  const readiness = (): HealthReport => {
    const checks: HealthCheck[] = [];
    const { bound, expected } = view.listeners();
    checks.push({ name: 'listeners', ok: bound.length >= expected, detail: `${bound.length} of ${expected} bound${bound.length ? `: ${bound.join(', ')}` : ''}` });
    if (view.mode === 'workers') {
      const current = view.workers().filter((w) => w.generation === view.generation());
      const ready = current.filter((w) => w.state === 'ready');
      checks.push({ name: 'workers', ok: ready.length >= view.expectedWorkers, detail: `${ready.length} of ${view.expectedWorkers} ready (generation ${view.generation()})` });
      const loaded = ready.filter((w) => w.handlersLoaded).length;
      checks.push({ name: 'handlers', ok: ready.length > 0 && loaded === ready.length, detail: `loaded in ${loaded} of ${ready.length} ready workers` });
    } else {
      checks.push({ name: 'handlers', ok: true, detail: 'loaded' });
    }
    if (view.bus) {
      const up = view.bus.connected();
      checks.push({ name: 'cluster bus', ok: up, detail: `${up ? 'connected' : 'Redis unreachable'} (cluster ${view.bus.cluster}, node ${view.bus.node})` });
    }
    return { ok: checks.every((c) => c.ok), checks };
  };

  return {
    onCommand: (verb, result) => view.counters.command(verb, result),

    start() {
      ownMetrics().catch(() => undefined);
      if (view.mode === 'workers' && view.reports) {
        const refresh = setInterval(() => void gather(false).catch(() => undefined), view.refreshMs ?? 5000);
        refresh.unref();
      }
    },

    async metrics() {
      const metrics = await ownMetrics();
      if (view.mode === 'single') return metrics.aggregate([await metrics.json(view.localStats?.(), gauges(0))]);
      const { replies } = await gather(true);
      const answered = [...replies.values()].filter((r): r is MetricsReply => r !== undefined);
      const unanswered = replies.size - answered.length;
      const parts = [await metrics.json(retired, gauges(unanswered)), ...answered.map((r) => r.metrics ?? [])];
      return metrics.aggregate(parts);
    },

    async readiness() {
      return readiness();
    },

    async status() {
      let snapshots: GatewayStatsSnapshot[];
      const workers: WorkerStatus[] = [];
      const unanswered: string[] = [];
      if (view.mode === 'single') {
        snapshots = view.localStats ? [view.localStats()] : [];
      } else {
        const { replies } = await gather(false);
        snapshots = [retired];
        for (const w of view.workers()) {
          const reply = replies.get(w.id);
          if (replies.has(w.id) && reply === undefined) unanswered.push(w.name);
          if (reply?.stats) snapshots.push(reply.stats);
          workers.push({
            name: w.name,
            slot: w.slot,
            id: w.id,
            pid: w.pid ?? null,
            generation: w.generation,
            state: w.state,
            uptimeSeconds: Math.round(w.uptimeMs / 1000),
            restarts: view.counters.restartsBySlot.get(w.slot) ?? 0,
            connections: reply?.stats ? openCount(reply.stats) : null,
          });
        }
      }
      const merged = mergeSnapshots(snapshots);
      const uptimeSeconds = (Date.now() - startedAt) / 1000;
      const perSecond = (n: number): number => Math.round((n / Math.max(uptimeSeconds, 1)) * 100) / 100;
      const locations: LocationStatus[] = merged.locations.map((l) => ({
        location: l.location,
        connections: Object.values(l.open).reduce((a, b) => a + b, 0),
        byVersion: l.open,
        messagesIn: l.messagesIn,
        messagesOut: l.messagesOut,
        bytesIn: l.bytesIn,
        bytesOut: l.bytesOut,
        messagesInPerSecond: perSecond(l.messagesIn),
        messagesOutPerSecond: perSecond(l.messagesOut),
      }));
      return {
        version: packageVersion(),
        pid: process.pid,
        startedAt: new Date(startedAt).toISOString(),
        uptimeSeconds: Math.round(uptimeSeconds),
        mode: view.mode,
        generation: view.generation(),
        ready: readiness().ok,
        listeners: view.listeners().bound,
        connections: locations.reduce((n, l) => n + l.connections, 0),
        handshakes: merged.handshakes,
        locations,
        workers,
        unanswered,
        control: view.control(),
        bus: view.bus ? { cluster: view.bus.cluster, node: view.bus.node, connected: view.bus.connected() } : null,
      };
    },
  };
}

function openCount(stats: GatewayStatsSnapshot): number {
  return stats.locations.reduce((n, l) => n + Object.values(l.open).reduce((a, b) => a + b, 0), 0);
}
