// `wsgate check [-f FILE] [--verbose] [-D NAME]...`: like `apachectl -t`.
import { isAbsolute, relative, resolve } from 'node:path';
import { defaultConfigFile } from '../config/default-file.js';
import { formatDiagnostic, hasErrors } from '../config/diagnostics.js';
import { loadConfig } from '../config/load.js';
import type { Diagnostic, EndpointConfig, GatewayConfig } from '../config/model.js';
import { validateHandlers } from '../plugins/validate.js';
import { locationName, writtenSection } from '../config/location-match.js';
import { ExitCode, type CliIO } from './io.js';
import { parseCommandArgs, UsageError } from './main.js';

const help = `usage: wsgate check [-f FILE] [--verbose] [-D NAME]...

Reads FILE as Apache would and prints "Syntax OK", or every error as
FILE:LINE:COL: message (exit 1).
  -f, --file FILE   the configuration file (default: conf/wsgate.conf in the current
                    directory, else the one shipped with wsgate, as for serve)
  -D, --define NAME define NAME for <IfDefine>, like apache2 -D
  -v, --verbose     also list the WebSocket endpoints and the ignored directives
`;

function describeEndpoint(e: EndpointConfig, show: (file: string) => string): string {
  const vhost = e.vhost.isMain ? 'main server' : `${e.vhost.addresses.join(' ')}${e.vhost.serverName ? ` (${e.vhost.serverName})` : ''}`;
  const path = writtenSection(e.match) === 'Location' ? locationName(e) : `~ ${locationName(e)}`;
  const handler = e.handler.kind === 'native' ? `${show(e.handler.path)} ${e.handler.init}` : `${show(e.handler.path)}${e.handler.exportName ? ` ${e.handler.exportName}` : ''}`;
  const s = e.settings;
  const limits = `maxMessageSize=${s.maxMessageSize} maxConnections=${s.maxConnections} sendQueueLimit=${s.sendQueueLimit} ping=${s.pingInterval}s origin=${s.originCheck} draft75=${s.supportDraft75 ? 'on' : 'off'}`;
  return `  ${vhost} ${path} -> ${e.handler.kind} ${handler} [${limits}]`;
}

function listing(config: GatewayConfig, show: (file: string) => string): string {
  const lines = [`endpoints (${config.endpoints.length}):`, ...config.endpoints.map((e) => describeEndpoint(e, show))];
  // One line per name (Apache configs repeat AddLanguage & co. dozens of times).
  const byName = new Map<string, { count: number; first: string }>();
  for (const i of config.ignored) {
    const key = i.name.toLowerCase();
    const seen = byName.get(key);
    if (seen) seen.count += 1;
    else byName.set(key, { count: 1, first: `${i.name} at ${show(i.loc.file)}:${i.loc.line}` });
  }
  lines.push(`ignored Apache directives (${config.ignored.length}):`);
  for (const { count, first } of byName.values()) lines.push(`  ${first}${count > 1 ? ` and ${count - 1} more` : ''}`);
  return `${lines.join('\n')}\n`;
}

export async function check(args: string[], io: CliIO): Promise<number> {
  let values: { file?: string; verbose?: boolean; define?: string[]; help?: boolean };
  try {
    ({ values } = parseCommandArgs({
      args,
      options: {
        file: { type: 'string', short: 'f' },
        verbose: { type: 'boolean', short: 'v' },
        define: { type: 'string', short: 'D', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    }));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`wsgate check: ${err.message}\n${help}`);
    return ExitCode.ConfigOrUsage;
  }
  if (values.help) {
    io.stdout.write(help);
    return ExitCode.Ok;
  }
  const file = values.file !== undefined ? resolve(io.cwd, values.file) : defaultConfigFile(io.cwd);
  // Paths under the working directory are printed relative to it, like a compiler does.
  const show = (path: string): string => {
    const rel = relative(io.cwd, path);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
  };
  const print = (list: readonly Diagnostic[]): void => {
    for (const d of list) io.stderr.write(`${formatDiagnostic({ ...d, loc: { ...d.loc, file: show(d.loc.file) } })}\n`);
  };
  const { config, diagnostics } = loadConfig(file, { env: io.env, defines: values.define ?? [] });
  print(diagnostics);
  // Handlers are loaded even when the config has errors, so one run reports every problem.
  let handlerDiagnostics: Diagnostic[];
  try {
    handlerDiagnostics = await validateHandlers(config);
  } catch (err) {
    io.stderr.write(`wsgate check: handler validation failed: ${(err as Error).message}\n`);
    return ExitCode.Runtime;
  }
  print(handlerDiagnostics);
  if (hasErrors(diagnostics) || hasErrors(handlerDiagnostics)) return ExitCode.ConfigOrUsage;
  if (values.verbose) io.stdout.write(listing(config, show));
  io.stdout.write('Syntax OK\n');
  return ExitCode.Ok;
}
