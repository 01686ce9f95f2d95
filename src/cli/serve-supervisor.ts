// `wsgate serve` with worker processes: this process holds the listeners and the control channel
// and never loads a handler; the workers (serve-worker.ts) hold the connections. SIGHUP reloads:
// the config is read again, and only when it is sound (every handler loads in the new workers)
// do new connections go to the new workers while the old ones drain.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { listenKey, startPool, workerExecArgv, type GenerationSpec, type WorkerExit, type WorkerPool } from '../cluster/index.js';
import { formatHostPort } from '../config/values.js';
import { formatDiagnostic } from '../config/diagnostics.js';
import { loadConfig } from '../config/load.js';
import type { GatewayConfig, ListenAddress } from '../config/model.js';
import { locationNames, startControl, type RunningControl } from '../control/index.js';
import { isWsgateError, type WsgateError } from '../errors.js';
import { IpcSupervisorRegistry } from '../registry/ipc-supervisor.js';
import { createServiceProbe, type RunningProbe, type WorkerView } from '../metrics/service.js';
import { ServiceCounters } from '../metrics/service-counters.js';
import { WorkerReports } from '../metrics/worker-reports.js';
import { warnUnreachableVhosts } from '../server/vhost-ports.js';
import { startClusterBus, workerMember, type RunningNodeBus } from './cluster-bus.js';
import { ExitCode, type CliIO } from './io.js';
import { encodeWorkerConfig, WORKER_CONFIG_ENV, type WorkerConfigRef, type WorkerContext } from './worker-env.js';

export interface SuperviseOptions {
  config: GatewayConfig;
  ref: WorkerConfigRef;
  /** `--listen`: replaces the config's Listen lines, also across reloads. */
  listen: ListenAddress[] | undefined;
  log: Logger;
  io: CliIO;
  /** FILE:LINE:COL: message, FILE as the command line named it. */
  describe: (err: WsgateError) => string;
  /** Settles at SIGTERM/SIGINT; taken before anything listens, so a signal during start-up is not lost. */
  stopSignal: Promise<NodeJS.Signals>;
}

const WORKER_ENTRY = fileURLToPath(new URL('./worker-entry.js', import.meta.url));

export function workerCount(config: GatewayConfig): number {
  const n = config.processes.workers;
  return n === 'auto' ? availableParallelism() : n;
}

/** The longest WebSocketCloseTimeout: how long workers get to close their connections on stop. */
function closeDeadlineMs(config: GatewayConfig): number {
  return Math.max(1, ...config.endpoints.map((e) => e.settings.closeTimeout)) * 1000;
}

/** Config errors that made workers exit before they were ready, each printed once. */
class WorkerFailures {
  private readonly seen = new Set<string>();
  readonly fresh: string[] = [];

  note(exit: WorkerExit): void {
    const errors = (exit.context as WorkerContext | undefined)?.configErrors ?? [];
    for (const e of errors) {
      if (this.seen.has(e)) continue;
      this.seen.add(e);
      this.fresh.push(e);
    }
  }

  take(): string[] {
    return this.fresh.splice(0);
  }
}

export async function superviseGateway(options: SuperviseOptions): Promise<number> {
  const supervisor = new Supervisor(options);
  // SIGHUP's default is to end the process; one that arrives during start-up is refused.
  const onHup = (): void => supervisor.requestReload();
  process.on('SIGHUP', onHup);
  try {
    return await supervisor.run();
  } finally {
    process.off('SIGHUP', onHup);
  }
}

class Supervisor {
  private config: GatewayConfig;
  private registry = new IpcSupervisorRegistry();
  private nodes: RunningNodeBus | undefined;
  private readonly failures = new WorkerFailures();
  private pool: WorkerPool | undefined;
  private reloading = Promise.resolve();
  private readonly counters = new ServiceCounters();
  private readonly reports = new WorkerReports();

  constructor(private readonly options: SuperviseOptions) {
    this.config = options.config;
  }

  async run(): Promise<number> {
    const { log, io, describe } = this.options;
    try {
      this.nodes = await startClusterBus(this.config, log);
    } catch (err) {
      if (!isWsgateError(err)) throw err;
      io.stderr.write(`wsgate serve: ${describe(err)}\n`);
      return err.code === 'IO' ? ExitCode.Runtime : ExitCode.ConfigOrUsage;
    }
    if (this.nodes) this.registry = new IpcSupervisorRegistry({ nodes: this.nodes });
    try {
      return await this.serve();
    } finally {
      await this.nodes?.close();
    }
  }

  private async serve(): Promise<number> {
    const { log, io, describe } = this.options;
    let pool: WorkerPool;
    try {
      pool = await startPool({
        spec: this.spec(this.config),
        listen: this.listenOf(this.config),
        logger: log,
        // Attached once ready: before that the worker has no registry listening on its port, and a
        // command sent to it would only time out as unreachable.
        onWorkerReady: (worker) => {
          this.registry.attach(workerMember(this.options.config, worker.id), worker.port);
          this.reports.attach(worker.id, worker.port);
        },
        onWorkerExit: (exit) => {
          this.failures.note(exit);
          if (!exit.planned && exit.restartInMs !== undefined) this.counters.restarted(exit.slot);
        },
      });
    } catch (err) {
      const errors = this.failures.take();
      for (const e of errors) io.stderr.write(`${e}\n`);
      if (errors.length > 0) return ExitCode.ConfigOrUsage;
      if (!isWsgateError(err)) throw err;
      io.stderr.write(`wsgate serve: ${describe(err)}\n`);
      return ExitCode.Runtime;
    }
    warnUnreachableVhosts(this.config, pool.listeners().map((l) => l.bound.port), log);

    let control: RunningControl | undefined;
    const probe = this.probe(pool, () => control);
    try {
      control = await startControl(this.config.control, this.registry, log, { locations: locationNames(this.config.endpoints), probe, onCommand: probe.onCommand });
    } catch (err) {
      await pool.stop({ deadlineMs: 0 });
      if (!isWsgateError(err)) throw err;
      io.stderr.write(`wsgate serve: ${describe(err)}\n`);
      return err.code === 'CONTROL_AUTH' ? ExitCode.ConfigOrUsage : ExitCode.Runtime;
    }
    this.pool = pool;
    const count = workerCount(this.config);
    log.info({ workers: count }, 'serving');
    probe.start();

    const signal = await this.options.stopSignal;
    log.info({ signal }, 'shutting down');
    this.pool = undefined;
    await this.reloading;
    // No pushes into connections that are being closed.
    await control.close();
    await pool.stop({ deadlineMs: closeDeadlineMs(this.config) });
    log.info('stopped');
    return ExitCode.Ok;
  }

  /** SIGHUP: reloads run one after another, never during start-up or shutdown. */
  requestReload(): void {
    const pool = this.pool;
    if (!pool) {
      this.options.log.warn('SIGHUP while starting or stopping: no reload');
      return;
    }
    this.reloading = this.reloading.then(() => this.reload(pool));
  }

  private async reload(pool: WorkerPool): Promise<void> {
    const { log, io, ref } = this.options;
    log.info({ file: ref.file }, 'reload: reading the config');
    const { config: next, diagnostics } = loadConfig(ref.file, { env: io.env, defines: ref.defines });
    const errors = diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0) {
      for (const d of errors) log.error({ error: formatDiagnostic(d) }, 'reload: config error');
      log.error({ errors: errors.length }, 'reload refused: the running config stays');
      this.counters.reloads.refused++;
      return;
    }
    try {
      const { generation } = await pool.reload(this.spec(next), { listen: this.listenOf(next), drainDeadlineMs: next.processes.reloadDeadline * 1000 });
      if (JSON.stringify(next.control) !== JSON.stringify(this.config.control)) {
        log.warn('reload: the control channel settings changed; they take effect when wsgate is restarted');
      }
      if (JSON.stringify(next.cluster) !== JSON.stringify(this.options.config.cluster)) {
        log.warn('reload: the cluster settings (WebSocketCluster…, WebSocketNodeName) changed; they take effect when wsgate is restarted');
      }
      this.config = next;
      this.counters.reloads.ok++;
      log.info({ generation, workers: workerCount(next) }, 'reloaded: new connections go to the new workers');
    } catch (err) {
      this.counters.reloads.refused++;
      for (const e of this.failures.take()) log.error({ error: e }, 'reload: config error');
      log.error({ reason: isWsgateError(err) ? err.message : String(err) }, 'reload refused: the running config stays');
    }
  }

  /** /metrics, /readyz and STATUS over this supervisor's pool. */
  private probe(pool: WorkerPool, control: () => RunningControl | undefined): RunningProbe {
    const cluster = this.options.config.cluster;
    const nodes = this.nodes;
    return createServiceProbe({
      mode: 'workers',
      counters: this.counters,
      reports: this.reports,
      expectedWorkers: workerCount(this.config),
      listeners: () => ({ bound: pool.listeners().map((l) => formatHostPort(l.bound.address, l.bound.port)), expected: new Set(this.listenOf(this.config).map(listenKey)).size }),
      workers: () =>
        pool.workers().map(
          (w): WorkerView => ({
            id: w.id,
            name: workerMember(this.options.config, w.id),
            slot: w.slot,
            generation: w.generation,
            pid: w.pid,
            state: w.state,
            uptimeMs: w.uptimeMs,
            handlersLoaded: Array.isArray((w.context as WorkerContext | undefined)?.handlers),
          }),
        ),
      generation: () => pool.generation,
      bus: cluster && nodes ? { cluster: cluster.name, node: cluster.node, connected: () => nodes.connected } : undefined,
      control: () => controlAddresses(this.config, control()),
    });
  }

  private spec(config: GatewayConfig): GenerationSpec {
    return {
      entry: WORKER_ENTRY,
      execArgv: workerExecArgv(process.execArgv),
      env: { ...this.options.io.env, [WORKER_CONFIG_ENV]: encodeWorkerConfig(this.options.ref) },
      count: workerCount(config),
    };
  }

  private listenOf(config: GatewayConfig): ListenAddress[] {
    return this.options.listen ?? config.listen;
  }
}

/** The status page's control channel: the socket path and the bound HTTP addresses. */
export function controlAddresses(config: GatewayConfig, control: RunningControl | undefined): { socket: string | null; http: string | null; metrics: string | null } {
  const http = control?.httpAddress;
  const metrics = control?.metricsAddress;
  return {
    socket: control?.socketPath ?? config.control.socket?.path ?? null,
    http: http ? formatHostPort(http.address, http.port) : null,
    metrics: metrics ? formatHostPort(metrics.address, metrics.port) : null,
  };
}

/** Resolves when SIGTERM or SIGINT arrives. */
export function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolveSignal(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
