// Which control channel a client command (`ctl`, `status`) talks to, and how to reach it. The
// config loader (and its parser) is imported only when a config file names the channel: a backend
// that shells out with --socket or WSGATE_CONTROL_SOCKET does not pay for it.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { connectSocket, httpClient, type ControlClient } from '../control/client.js';
import { targetFromConfig, type ControlTarget } from '../control/target.js';
import { UsageError } from './args.js';
import { ExitCode, type CliIO } from './io.js';

/** The options both commands take (parseArgs definitions). */
export const channelOptions = {
  socket: { type: 'string' },
  url: { type: 'string' },
  file: { type: 'string', short: 'f' },
  define: { type: 'string', short: 'D', multiple: true },
  token: { type: 'string' },
} as const;

export interface ChannelValues {
  socket?: string | undefined;
  url?: string | undefined;
  file?: string | undefined;
  define?: string[] | undefined;
  token?: string | undefined;
}

/** Options first, then the environment, then the config file (-f, or conf/wsgate.conf if present).
 *  A number: the exit code, after printing why there is no channel in the config. */
export async function findTarget(v: ChannelValues, io: CliIO, command: string): Promise<ControlTarget | number> {
  if ([v.socket, v.url, v.file].filter((x) => x !== undefined).length > 1) throw new UsageError('give one of --socket, --url and -f');
  let target: ControlTarget = { socket: v.socket, url: v.url };
  if (v.socket === undefined && v.url === undefined) {
    target = { socket: io.env.WSGATE_CONTROL_SOCKET, url: io.env.WSGATE_CONTROL_URL };
    const file = v.file ?? (target.socket ?? target.url ? undefined : defaultConfig(io.cwd));
    if (file !== undefined) {
      const fromFile = await targetInConfig(resolve(io.cwd, file), v.define ?? [], io, command);
      if (typeof fromFile === 'number') return fromFile;
      target = fromFile;
    }
  }
  if (target.socket !== undefined) target.url = undefined;
  target.token = v.token ?? io.env.WSGATE_CONTROL_TOKEN ?? target.token;
  if (target.socket === undefined && target.url === undefined) throw new UsageError('no control channel: give --socket PATH, --url URL or -f FILE');
  return target;
}

export function connectTarget(target: ControlTarget): Promise<ControlClient> {
  return target.socket !== undefined ? connectSocket(target.socket) : Promise.resolve(httpClient(target.url!, target.token));
}

function defaultConfig(cwd: string): string | undefined {
  const file = resolve(cwd, 'conf/wsgate.conf');
  return existsSync(file) ? file : undefined;
}

/** The control channel a config file sets up, or an exit code after printing why there is none. */
async function targetInConfig(file: string, defines: string[], io: CliIO, command: string): Promise<ControlTarget | number> {
  const [{ loadConfig }, { formatDiagnostic, hasErrors }] = await Promise.all([import('../config/load.js'), import('../config/diagnostics.js')]);
  const { config, diagnostics } = loadConfig(file, { defines, env: io.env });
  if (hasErrors(diagnostics)) {
    for (const d of diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
    return ExitCode.ConfigOrUsage;
  }
  const target = targetFromConfig(config.control);
  if (target === undefined) {
    io.stderr.write(`wsgate ${command}: ${file} sets up no control channel (WebSocketControlSocket or WebSocketControlListen)\n`);
    return ExitCode.ConfigOrUsage;
  }
  return target;
}
