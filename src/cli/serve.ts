// `wsgate serve [-f FILE] [--listen HOST:PORT]... [-D NAME]...`: run the gateway until SIGTERM/SIGINT.
import { rm, writeFile } from 'node:fs/promises';
import type { LevelWithSilent, Logger } from 'pino';
import type { GatewayConfig, ListenAddress } from '../config/model.js';
import { isWsgateError, type WsgateError } from '../errors.js';
import { createLogger } from '../log.js';
import { locationNames, startControl, type RunningControl } from '../control/index.js';
import { InProcessRegistry } from '../registry/in-process.js';
import type { WsConnection } from '../server/connection.js';
import { startClusterBus, type RunningNodeBus } from './cluster-bus.js';
import { parseCommandArgs, UsageError } from './args.js';
import { configOptions, configOptionsHelp, readCommandConfig } from './config-file.js';
import { ExitCode, type CliIO } from './io.js';
import { controlAddresses, nextStopSignal, superviseGateway } from './serve-supervisor.js';
import { createServiceProbe } from '../metrics/service.js';
import { ServiceCounters } from '../metrics/service-counters.js';
import { formatHostPort } from '../config/values.js';
import { tuneMalloc } from '../server/malloc-tuning.js';

const USAGE = `usage: wsgate serve [-f FILE] [--listen HOST:PORT]... [-D NAME]...

${configOptionsHelp}
      --listen HOST:PORT listen here instead of the config's Listen lines (repeatable; [::1]:8080 for IPv6)
  -h, --help             this text

With WebSocketWorkers (default auto: one per core), this process supervises worker processes
that hold the connections; WebSocketWorkers 0 serves everything in this one process.
SIGTERM or SIGINT closes every connection with 1001 and exits 0. SIGHUP (or wsgate reload)
re-reads the config: new connections go to workers running the new config, and the old
workers close theirs with 1012 after WebSocketReloadDeadline (the config stays if it has errors).
`;

/** `127.0.0.1:8080`, `[::1]:8080`, `*:8080` or `8080` (all interfaces). */
export function parseListen(text: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]:|([^:\[\]]+):)?(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new UsageError(`--listen ${text}: expected HOST:PORT, [IPv6]:PORT or PORT`);
  const host = match[1] ?? match[2];
  return { host: host === undefined || host === '*' ? undefined : host, port, loc: undefined };
}

export async function serve(args: string[], io: CliIO): Promise<number> {
  let values: { file?: string | undefined; define?: string[] | undefined; listen?: string[] | undefined; help?: boolean | undefined };
  let listen: ListenAddress[] | undefined;
  try {
    ({ values } = parseCommandArgs({
      args,
      options: {
        ...configOptions,
        listen: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
    if (values.help) {
      io.stdout.write(USAGE);
      return ExitCode.Ok;
    }
    listen = values.listen?.map(parseListen);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`wsgate serve: ${err.message}\n${USAGE}`);
    return ExitCode.ConfigOrUsage;
  }

  const { config, ok, describe, file, defines } = await readCommandConfig(values, io, {
    // One process loads its handlers here, as `check` does, before anything listens; a supervisor
    // leaves that to its workers (a plugin that crashes while loading takes only a worker down).
    loadHandlers: (c) => c.processes.workers === 0,
  });
  if (!ok) return ExitCode.ConfigOrUsage;

  const level = (io.env.WSGATE_LOG_LEVEL ?? config.logLevel) as LevelWithSilent;
  // The process's own stdout keeps createLogger's choice (pretty on a terminal); tests pass their own stream.
  const log = createLogger(io.stdout === process.stdout ? { level } : { level, destination: io.stdout });
  // Taken before anything listens: a stop signal during start-up is kept, not fatal.
  const stopSignal = nextStopSignal();
  const pidFile = await writePidFile(config, io);
  if (pidFile === false) return ExitCode.Runtime;
  try {
    if (config.processes.workers === 0) {
      return await serveInProcess(config, listen, log, describe, io, stopSignal);
    }
    return await superviseGateway({ config, ref: { file, defines }, listen, log, io, describe, stopSignal });
  } finally {
    if (pidFile !== undefined) await rm(pidFile, { force: true });
  }
}

/** WebSocketPidFile: written now, removed on exit. undefined: none configured; false: it failed (printed). */
async function writePidFile(config: GatewayConfig, io: CliIO): Promise<string | undefined | false> {
  const path = config.processes.pidFile;
  if (path === undefined) return undefined;
  try {
    await writeFile(path, `${process.pid}\n`);
    return path;
  } catch (err) {
    io.stderr.write(`wsgate serve: cannot write WebSocketPidFile ${path}: ${(err as Error).message}\n`);
    return false;
  }
}

/** WebSocketWorkers 0: the gateway, its handlers and the control channel in this process. */
async function serveInProcess(
  config: GatewayConfig,
  listen: ListenAddress[] | undefined,
  log: Logger,
  describe: (err: WsgateError) => string,
  io: CliIO,
  stopSignal: Promise<NodeJS.Signals>,
): Promise<number> {
  let running;
  let nodes: RunningNodeBus | undefined;
  try {
    nodes = await startClusterBus(config, log);
    const registry = nodes ? new InProcessRegistry<WsConnection>({ nodes }) : undefined;
    // Loaded here only: a supervisor never needs the gateway (nor the plugins and koffi behind it).
    const { startGateway } = await import('../server/gateway.js');
    running = await startGateway(config, { log, ...(listen ? { listen } : {}), ...(registry ? { registry } : {}) });
  } catch (err) {
    await nodes?.close();
    if (!isWsgateError(err)) throw err;
    io.stderr.write(`wsgate serve: ${describe(err)}\n`);
    // A handler that cannot be loaded is a config problem; anything else (a port in use) is runtime.
    return err.code === 'IO' ? ExitCode.Runtime : ExitCode.ConfigOrUsage;
  }
  let control: RunningControl | undefined;
  const gateway = running;
  const cluster = config.cluster;
  const bus = nodes;
  const probe = createServiceProbe({
    mode: 'single',
    counters: new ServiceCounters(),
    expectedWorkers: 0,
    listeners: () => ({ bound: gateway.addresses.map((a) => formatHostPort(a.address, a.port)), expected: (listen ?? config.listen).length }),
    workers: () => [],
    generation: () => 0,
    localStats: () => gateway.stats(),
    bus: cluster && bus ? { cluster: cluster.name, node: cluster.node, connected: () => bus.connected } : undefined,
    control: () => controlAddresses(config, control),
  });
  try {
    control = await startControl(config.control, running.registry, log, { locations: locationNames(config.endpoints), probe, onCommand: probe.onCommand });
  } catch (err) {
    await running.close();
    await nodes?.close();
    if (!isWsgateError(err)) throw err;
    io.stderr.write(`wsgate serve: ${describe(err)}\n`);
    // A token-less API on a public address is a config problem; a path or port in use is runtime.
    return err.code === 'CONTROL_AUTH' ? ExitCode.ConfigOrUsage : ExitCode.Runtime;
  }
  // A reload needs worker processes to take over; without them SIGHUP must not kill the gateway.
  const onHup = (): void => log.warn('SIGHUP: reloading needs worker processes (WebSocketWorkers 1 or more); restart wsgate to apply a new config');
  process.on('SIGHUP', onHup);
  probe.start();
  setImmediate(() => log.debug({ malloc: tuneMalloc() }, 'malloc tuning'));
  const signal = await stopSignal;
  process.off('SIGHUP', onHup);
  log.info({ signal }, 'shutting down');
  // No pushes into connections that are being closed.
  await control.close();
  await running.close();
  await nodes?.close();
  log.info('stopped');
  return ExitCode.Ok;
}
