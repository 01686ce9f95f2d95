// One worker process of `wsgate serve`: reads the config the supervisor read, loads every handler,
// and serves the connections the supervisor hands it. Ids and cluster-wide commands go through the
// supervisor's registry; drain (a reload) and stop are the supervisor's to call.
import type { LevelWithSilent } from 'pino';
import { formatDiagnostic, hasErrors } from '../config/diagnostics.js';
import { locationName } from '../config/location-match.js';
import { loadConfig } from '../config/load.js';
import type { GatewayConfig } from '../config/model.js';
import { startWorkerRuntime, tagWorkerLogger } from '../cluster/index.js';
import { tuneMalloc } from '../server/malloc-tuning.js';
import { isWsgateError } from '../errors.js';
import { createLogger } from '../log.js';
import { validateHandlers } from '../plugins/validate.js';
import { IpcWorkerRegistry } from '../registry/ipc-worker.js';
import { answerMetricsRequests } from '../metrics/worker-reports.js';
import { createGateway, type GatewayCore } from '../server/gateway.js';
import { workerMember } from './cluster-bus.js';
import type { WsConnection } from '../server/connection.js';
import { decodeWorkerConfig, WORKER_CONFIG_ENV, WORKER_CONFIG_EXIT, type WorkerContext } from './worker-env.js';

function handlersOf(config: GatewayConfig): string[] {
  return config.endpoints.map((e) => {
    const h = e.handler;
    return `${locationName(e)} ${h.path}${h.kind === 'native' ? ` ${h.init}` : ''}`;
  });
}

export async function runWorker(): Promise<void> {
  const ref = decodeWorkerConfig(process.env[WORKER_CONFIG_ENV]);
  if (!ref) throw new Error(`a wsgate worker needs ${WORKER_CONFIG_ENV}: it is started by wsgate serve`);
  let core: GatewayCore | undefined;
  const runtime = startWorkerRuntime({
    onSocket: (socket, listener) => (core ? core.acceptSocket(socket, listener) : socket.destroy()),
    onDrain: (deadlineMs) => core?.stop({ code: 1012, reason: 'service restart', drainMs: deadlineMs }),
    onStop: () => core?.stop({ code: 1001, reason: 'server shutting down' }),
  });

  // The supervisor printed the config's own diagnostics already; a worker only reports what
  // stops it: errors, and handlers that do not load.
  const { config, diagnostics } = loadConfig(ref.file, { env: process.env, defines: ref.defines });
  const problems = [...diagnostics, ...(hasErrors(diagnostics) ? [] : await validateHandlers(config))].filter((d) => d.severity === 'error');
  if (problems.length > 0) {
    await runtime.fail({ configErrors: problems.map(formatDiagnostic) } satisfies WorkerContext, WORKER_CONFIG_EXIT);
  }
  const level = (process.env.WSGATE_LOG_LEVEL ?? config.logLevel) as LevelWithSilent;
  const log = tagWorkerLogger(createLogger({ level }), runtime.identity);
  const registry = new IpcWorkerRegistry<WsConnection>(runtime.port, { member: workerMember(config, runtime.identity.id) });
  try {
    core = await createGateway(config, { log, registry });
  } catch (err) {
    const message = isWsgateError(err) ? err.format() : String(err);
    await runtime.fail({ configErrors: [message] } satisfies WorkerContext, WORKER_CONFIG_EXIT);
  }
  runtime.ready({ handlers: handlersOf(config) } satisfies WorkerContext);
  setImmediate(() => log.debug({ malloc: tuneMalloc() }, 'malloc tuning'));
  // After ready: prom-client loads while the worker already serves.
  answerMetricsRequests(runtime.port, () => core?.stats());
}
