// `wsgate migrate APACHE_CONF [--server-root DIR] [--out DIR] [--listen HOST:PORT] [--style STYLE]
//  [--modules-dir DIR]`: turns a mod_websocket Apache setup into a wsgate config plus the Apache
// changes that put the gateway behind Apache; prints the report (MIGRATION.md) on stdout.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { defaultListen, migrateApacheTree } from '../apache/migrate/index.js';
import { parseProxyStyle, proxyStyles } from '../apache/style.js';
import { parseHostPort } from '../config/values.js';
import { isWsgateError } from '../errors.js';
import { ExitCode, type CliIO } from './io.js';
import { parseCommandArgs, UsageError } from './args.js';

const help = `usage: wsgate migrate APACHE_CONF [--server-root DIR] [--out DIR] [--listen HOST:PORT]
                      [--style proxy|wstunnel|rewrite] [--modules-dir DIR]

Reads the Apache config tree APACHE_CONF (Include, Define, IfModule resolved) and finds every
mod_websocket endpoint. Writes to --out (default: wsgate-migration):
  wsgate.conf         the endpoints for the gateway (default Listen ${defaultListen.host}:${defaultListen.port})
  apache/…            the Apache files that change, with the mod_websocket blocks replaced by
                      proxy blocks (paths relative to ServerRoot)
  apache-wsgate.conf  the same proxy configuration as one file (wsgate apache output)
  MIGRATION.md        what changed and what could not be carried over (also printed here)
Nothing in the Apache tree itself is modified.
`;

export async function migrate(args: string[], io: CliIO): Promise<number> {
  try {
    const { values, positionals } = parseCommandArgs({
      args,
      options: {
        'server-root': { type: 'string' },
        out: { type: 'string', default: 'wsgate-migration' },
        listen: { type: 'string' },
        style: { type: 'string' },
        'modules-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    });
    if (values.help) {
      io.stdout.write(help);
      return ExitCode.Ok;
    }
    if (positionals.length !== 1) throw new UsageError('give exactly one Apache config file');
    const style = values.style === undefined ? undefined : parseProxyStyle(values.style);
    if (values.style !== undefined && style === undefined) throw new UsageError(`--style must be one of ${proxyStyles.join(', ')}`);
    let listen = defaultListen;
    if (values.listen !== undefined) {
      try {
        const parsed = parseHostPort(values.listen, '--listen');
        listen = { host: parsed.host ?? '127.0.0.1', port: parsed.port };
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    }
    const source = positionals[0] as string;
    const result = migrateApacheTree(resolve(io.cwd, source), {
      listen,
      env: io.env,
      sourceName: source,
      ...(style ? { style } : {}),
      ...(values['server-root'] ? { serverRoot: resolve(io.cwd, values['server-root']) } : {}),
      ...(values['modules-dir'] ? { modulesDir: values['modules-dir'] } : {}),
    });
    if (result.endpoints.length === 0) {
      io.stdout.write(result.report);
      io.stderr.write('wsgate migrate: no mod_websocket endpoint found; nothing written\n');
      return ExitCode.ConfigOrUsage;
    }
    const out = resolve(io.cwd, values.out);
    for (const [name, content] of result.files) {
      const target = join(out, name);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
    }
    io.stdout.write(result.report);
    io.stderr.write(`wsgate migrate: ${result.endpoints.length} endpoint(s); files written to ${out}\n`);
    return ExitCode.Ok;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`wsgate migrate: ${err.message}\n${help}`);
      return ExitCode.ConfigOrUsage;
    }
    if (isWsgateError(err)) {
      io.stderr.write(`wsgate migrate: ${err.format()}\n`);
      return ExitCode.ConfigOrUsage;
    }
    throw err;
  }
}
