// The configuration a command runs on (serve, check): `-f FILE` or the default file, `-D NAME`s,
// every problem printed once as FILE:LINE:COL: message, handlers loaded the way serve loads them.
import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { defaultConfigFile } from '../config/default-file.js';
import { formatDiagnostic, hasErrors } from '../config/diagnostics.js';
import { loadConfig } from '../config/load.js';
import type { Diagnostic, GatewayConfig } from '../config/model.js';
import { formatLocation, type WsgateError } from '../errors.js';
import type { CliIO } from './io.js';

/** The options every config-reading command takes, for parseCommandArgs. */
export const configOptions = {
  file: { type: 'string', short: 'f' },
  define: { type: 'string', short: 'D', multiple: true },
} as const;

export const configOptionsHelp = `  -f, --file FILE        the configuration (default: conf/wsgate.conf in the current
                         directory, else the one shipped with wsgate)
  -D, --define NAME      define NAME for <IfDefine>, as apache2 -D (repeatable)`;

export interface CommandConfig {
  config: GatewayConfig;
  /** The main config file, absolute, and the -D names: what a worker process reads again. */
  file: string;
  defines: string[];
  /** False when the config or a handler has an error (all of them were printed). */
  ok: boolean;
  /** A path as printed: relative when under the working directory, like a compiler prints it. */
  show(path: string): string;
  /** `FILE:LINE:COL: message` with FILE as `show` prints it, or just the message. */
  describe(err: WsgateError): string;
}

/** Reads, checks and prints the problems of the config named by `-f` (or the default one).
 *  loadHandlers: whether to load the handlers here, given the config (a supervisor leaves that to
 *  its workers). */
export async function readCommandConfig(
  values: { file?: string | undefined; define?: string[] | undefined },
  io: CliIO,
  { loadHandlers = () => true }: { loadHandlers?: (config: GatewayConfig) => boolean } = {},
): Promise<CommandConfig> {
  const file = values.file !== undefined ? resolve(io.cwd, values.file) : defaultConfigFile(io.cwd);
  const show = (path: string): string => {
    const rel = relative(io.cwd, path);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
  };
  const print = (list: readonly Diagnostic[]): void => {
    for (const d of list) io.stderr.write(`${formatDiagnostic({ ...d, loc: { ...d.loc, file: show(d.loc.file) } })}\n`);
  };
  const { config, diagnostics } = loadConfig(file, { env: io.env, defines: values.define ?? [] });
  print(diagnostics);
  // Handlers are loaded even when the config has errors, so one run reports every problem; a handler
  // file that does not exist was reported by the config check already (at its WebSocketHandler line).
  const present = config.endpoints.filter((e) => existsSync(resolve(config.serverRoot, e.handler.path)));
  // The handler loaders (koffi among them) only for commands that load handlers.
  const handlerDiagnostics = loadHandlers(config) ? await (await import('../plugins/validate.js')).validateHandlers({ ...config, endpoints: present }) : [];
  print(handlerDiagnostics);
  const describe = (err: WsgateError): string => (err.loc ? `${formatLocation({ ...err.loc, file: show(err.loc.file) })}: ${err.message}` : err.message);
  return { config, ok: !hasErrors(diagnostics) && !hasErrors(handlerDiagnostics), show, describe, file, defines: values.define ?? [] };
}
