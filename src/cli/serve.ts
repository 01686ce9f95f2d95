// `wsgate serve [-f FILE] [--listen HOST:PORT]... [-D NAME]...`: run the gateway until SIGTERM/SIGINT.
import type { LevelWithSilent } from 'pino';
import type { ListenAddress } from '../config/model.js';
import { isWsgateError } from '../errors.js';
import { createLogger } from '../log.js';
import { locationNames, startControl, type RunningControl } from '../control/index.js';
import { startGateway } from '../server/gateway.js';
import { parseCommandArgs, UsageError } from './args.js';
import { configOptions, configOptionsHelp, readCommandConfig } from './config-file.js';
import { ExitCode, type CliIO } from './io.js';

const USAGE = `usage: wsgate serve [-f FILE] [--listen HOST:PORT]... [-D NAME]...

${configOptionsHelp}
      --listen HOST:PORT listen here instead of the config's Listen lines (repeatable; [::1]:8080 for IPv6)
  -h, --help             this text

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

  const { config, ok, describe } = await readCommandConfig(values, io);
  if (!ok) return ExitCode.ConfigOrUsage;

  const level = (io.env.WSGATE_LOG_LEVEL ?? config.logLevel) as LevelWithSilent;
  // The process's own stdout keeps createLogger's choice (pretty on a terminal); tests pass their own stream.
  const log = createLogger(io.stdout === process.stdout ? { level } : { level, destination: io.stdout });
  let running;
  try {
    running = await startGateway(config, { log, ...(listen ? { listen } : {}) });
  } catch (err) {
    if (!isWsgateError(err)) throw err;
    io.stderr.write(`wsgate serve: ${describe(err)}\n`);
    // A handler that cannot be loaded is a config problem; anything else (a port in use) is runtime.
    return err.code === 'IO' ? ExitCode.Runtime : ExitCode.ConfigOrUsage;
  }
  let control: RunningControl;
  try {
    control = await startControl(config.control, running.registry, log, { locations: locationNames(config.endpoints) });
  } catch (err) {
    await running.close();
    if (!isWsgateError(err)) throw err;
    io.stderr.write(`wsgate serve: ${describe(err)}\n`);
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
