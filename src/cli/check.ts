// `wsgate check [-f FILE] [--verbose] [-D NAME]...`: like `apachectl -t`.
import { redactedRedisUrl } from '../config/cluster-values.js';
import type { EndpointConfig, GatewayConfig } from '../config/model.js';
import { locationName, writtenSection } from '../config/location-match.js';
import { parseCommandArgs, UsageError } from './args.js';
import { configOptions, configOptionsHelp, readCommandConfig } from './config-file.js';
import { ExitCode, type CliIO } from './io.js';

const help = `usage: wsgate check [-f FILE] [--verbose] [-D NAME]...

Reads FILE as Apache would and prints "Syntax OK", or every error as
FILE:LINE:COL: message (exit 1).
${configOptionsHelp}
  -v, --verbose          also list the WebSocket endpoints and the ignored directives
  -h, --help             this text
`;

function describeEndpoint(e: EndpointConfig, show: (file: string) => string): string {
  const vhost = e.vhost.isMain ? 'main server' : `${e.vhost.addresses.join(' ')}${e.vhost.serverName ? ` (${e.vhost.serverName})` : ''}`;
  const path = writtenSection(e.match) === 'Location' ? locationName(e) : `~ ${locationName(e)}`;
  const handler = e.handler.kind === 'native' ? `${show(e.handler.path)} ${e.handler.init}` : `${show(e.handler.path)}${e.handler.exportName ? ` ${e.handler.exportName}` : ''}`;
  const s = e.settings;
  const limits = `maxMessageSize=${s.maxMessageSize} maxConnections=${s.maxConnections} sendQueueLimit=${s.sendQueueLimit} ping=${s.pingInterval}s origin=${s.originCheck} draft75=${s.supportDraft75 ? 'on' : 'off'} reservedCloseCodes=${s.allowReservedStatusCodes ? 'on' : 'off'}`;
  return `  ${vhost} ${path} -> ${e.handler.kind} ${handler} [${limits}]`;
}

function listing(config: GatewayConfig, show: (file: string) => string): string {
  const lines = [`endpoints (${config.endpoints.length}):`, ...config.endpoints.map((e) => describeEndpoint(e, show))];
  const cluster = config.cluster;
  if (cluster) lines.push(`cluster: ${cluster.name}, this node ${cluster.node}, Redis ${redactedRedisUrl(cluster.redis)}`);
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
        ...configOptions,
        verbose: { type: 'boolean', short: 'v' },
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
  let read;
  try {
    read = await readCommandConfig(values, io);
  } catch (err) {
    io.stderr.write(`wsgate check: handler validation failed: ${(err as Error).message}\n`);
    return ExitCode.Runtime;
  }
  const { config, ok, show } = read;
  if (!ok) return ExitCode.ConfigOrUsage;
  if (values.verbose) io.stdout.write(listing(config, show));
  io.stdout.write('Syntax OK\n');
  return ExitCode.Ok;
}
