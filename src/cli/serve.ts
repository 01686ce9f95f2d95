// `wsgate serve [-f FILE] [--listen HOST:PORT]... [-D NAME]...`: run the gateway until SIGTERM/SIGINT.
import { resolve } from 'node:path';
import type { LevelWithSilent } from 'pino';
import { defaultConfigFile } from '../config/default-file.js';
import { formatDiagnostic, hasErrors } from '../config/diagnostics.js';
import { loadConfig } from '../config/load.js';
import type { ListenAddress } from '../config/model.js';
import { isWsgateError } from '../errors.js';
import { createLogger } from '../log.js';
import { validateHandlers } from '../plugins/validate.js';
import { locationNames, startControl, type RunningControl } from '../control/index.js';
import { startGateway } from '../server/gateway.js';
import { ExitCode, type CliIO } from './io.js';
import { parseCommandArgs, UsageError } from './main.js';

const USAGE = `usage: wsgate serve [-f FILE] [--listen HOST:PORT]... [-D NAME]...

  -f, --file FILE        configuration (default: conf/wsgate.conf in the current directory,
                         else the one shipped with wsgate)
      --listen HOST:PORT listen here instead of the config's Listen lines (repeatable; [::1]:8080 for IPv6)
  -D, --define NAME      define NAME for <IfDefine>, as apache2 -D (repeatable)

SIGTERM or SIGINT closes every connection with 1001 and exits 0.
`;

/** `127.0.0.1:8080`, `[::1]:8080`, `*:8080` or `8080` (all interfaces). */
export function parseListen(text: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]:|([^:\[\]]+):)?(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new UsageError(`--listen ${text}: expected HOST:PORT, [IPv6]:PORT or PORT`);
  const host = match[1] ?? match[2];
  return { host: host === undefined || host === '*' ? undefined : host, port, loc: undefined };
}

/** Resolves when SIGTERM or SIGINT arrives. */
function nextStopSignal(): Promise<NodeJS.Signals> {
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

export async function serve(args: string[], io: CliIO): Promise<number> {
  let file: string;
  let listen: ListenAddress[] | undefined;
  let defines: string[];
  try {
    const { values } = parseCommandArgs({
      args,
      options: {
        file: { type: 'string', short: 'f' },
        listen: { type: 'string', multiple: true },
        define: { type: 'string', short: 'D', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout.write(USAGE);
      return ExitCode.Ok;
    }
    file = values.file !== undefined ? resolve(io.cwd, values.file) : defaultConfigFile(io.cwd);
    listen = values.listen?.map(parseListen);
    defines = values.define ?? [];
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`wsgate serve: ${err.message}\n${USAGE}`);
    return ExitCode.ConfigOrUsage;
  }

  const { config, diagnostics } = loadConfig(file, { env: io.env, defines });
  for (const d of diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
  // Handlers are loaded even when the config has errors, so one run reports every problem.
  const handlerDiagnostics = await validateHandlers(config);
  for (const d of handlerDiagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
  if (hasErrors(diagnostics) || hasErrors(handlerDiagnostics)) return ExitCode.ConfigOrUsage;

  const level = (io.env.WSGATE_LOG_LEVEL ?? config.logLevel) as LevelWithSilent;
  // The process's own stdout keeps createLogger's choice (pretty on a terminal); tests pass their own stream.
  const log = createLogger(io.stdout === process.stdout ? { level } : { level, destination: io.stdout });
  let running;
  try {
    running = await startGateway(config, { log, ...(listen ? { listen } : {}) });
  } catch (err) {
    if (!isWsgateError(err)) throw err;
    io.stderr.write(`wsgate serve: ${err.format()}\n`);
    // A handler that cannot be loaded is a config problem; anything else (a port in use) is runtime.
    return err.code === 'IO' ? ExitCode.Runtime : ExitCode.ConfigOrUsage;
  }
  let control: RunningControl;
  try {
    control = await startControl(config.control, running.gateway, log, { locations: locationNames(config.endpoints) });
  } catch (err) {
    await running.close();
    if (!isWsgateError(err)) throw err;
    io.stderr.write(`wsgate serve: ${err.format()}\n`);
    // A token-less API on a public address is a config problem; a path or port in use is runtime.
    return err.code === 'CONTROL_AUTH' ? ExitCode.ConfigOrUsage : ExitCode.Runtime;
  }
  const signal = await nextStopSignal();
  log.info({ signal }, 'shutting down');
  // No pushes into connections that are being closed.
  await control.close();
  await running.close();
  log.info('stopped');
  return ExitCode.Ok;
}
