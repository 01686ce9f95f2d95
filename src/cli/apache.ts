// `wsgate apache [-f FILE] [-D NAME]... [--backend URL] [--style proxy|wstunnel|rewrite]
//  [--timeout SECONDS] [--modules load|a2enmod] [--modules-dir DIR]`: prints the Apache config that
// forwards FILE's WebSocket endpoints to the gateway.
import { isAbsolute, relative, resolve } from 'node:path';
import { parseBackend, type Backend } from '../apache/backend.js';
import { generateApacheConfig } from '../apache/generate.js';
import { debianConfDir, detectApacheLayout } from '../apache/layout.js';
import { a2enmodCommand, inferModulesDir, ModuleLoading, moduleLoadings, parseModuleLoading } from '../apache/modules.js';
import { parseProxyStyle, proxyStyles } from '../apache/style.js';
import { defaultConfigFile } from '../config/default-file.js';
import { formatDiagnostic, hasErrors } from '../config/diagnostics.js';
import { loadConfig } from '../config/load.js';
import { isWsgateError } from '../errors.js';
import { ExitCode, type CliIO } from './io.js';
import { parseCommandArgs, UsageError } from './args.js';

const help = `usage: wsgate apache [-f FILE] [-D NAME]... [--backend URL]... [--style proxy|wstunnel|rewrite]
                     [--timeout SECONDS] [--modules load|a2enmod] [--modules-dir DIR]

Prints the Apache httpd 2.4 config that forwards every WebSocket endpoint of FILE to the
gateway. Only WebSocket handshakes go to the gateway; other requests on the same URLs stay
with Apache (a page at /board/ next to the WebSocket /board works).
  -f, --file FILE    the gateway config (default: conf/wsgate.conf in the current
                     directory, else the one shipped with wsgate, as for serve and check)
  -D, --define NAME  define NAME for <IfDefine>, like apache2 -D
  --backend URL      the gateway as Apache reaches it (default: FILE's first Listen); given
                     twice or more (the nodes of a WebSocketClusterRedis cluster): a
                     mod_proxy_balancer with one BalancerMember per node
  --style STYLE      proxy (default): mod_rewrite sends handshakes to http://… upgrade=websocket
                     (mod_proxy_http)
                     wstunnel: ProxyPass ws://… through mod_proxy_wstunnel
                     rewrite: mod_rewrite sends handshakes to ws://…
  --timeout SECONDS  proxy timeout of the gateway's workers (default: twice the longest
                     WebSocketPingInterval). ProxyTimeout itself is left alone.
  --modules MODE     a2enmod: no LoadModule lines; apache2 -t stops with the a2enmod command
                     when a module is not enabled (the default where ${debianConfDir}/mods-available
                     exists: Debian, Ubuntu; $APACHE_CONFDIR replaces ${debianConfDir})
                     load: LoadModule lines, each skipped when the module is loaded already
                     (the default elsewhere)
  --modules-dir DIR  where LoadModule finds modules, relative to Apache's ServerRoot; implies
                     --modules load (default: the directory of FILE's own LoadModule lines, else
                     of mods-available/*.load, else modules)
`;

interface ApacheArgs {
  file?: string;
  define?: string[];
  backend?: string[];
  style: string;
  timeout?: string;
  modules?: string;
  'modules-dir'?: string;
  help?: boolean;
}

function parse(args: string[]): ApacheArgs {
  const { values } = parseCommandArgs({
    args,
    options: {
      file: { type: 'string', short: 'f' },
      define: { type: 'string', short: 'D', multiple: true },
      backend: { type: 'string', multiple: true },
      style: { type: 'string', default: 'proxy' },
      timeout: { type: 'string' },
      modules: { type: 'string' },
      'modules-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  return values;
}

/** One --backend: that gateway; several: a balancer over the nodes. */
function backendOptions(urls: readonly string[] | undefined): { backend?: Backend; balancerMembers?: Backend[] } {
  const backends = (urls ?? []).map(parseBackend);
  if (backends.length === 0) return {};
  return backends.length === 1 ? { backend: backends[0]! } : { balancerMembers: backends };
}

/** The header names the file as given, else relative to the working directory when under it. */
function sourceName(given: string | undefined, file: string, cwd: string): string {
  if (given !== undefined) return given;
  const rel = relative(cwd, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

export async function apache(args: string[], io: CliIO): Promise<number> {
  try {
    const values = parse(args);
    if (values.help) {
      io.stdout.write(help);
      return ExitCode.Ok;
    }
    const style = parseProxyStyle(values.style);
    if (style === undefined) throw new UsageError(`--style must be one of ${proxyStyles.join(', ')}`);
    const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
    if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0)) {
      throw new UsageError('--timeout must be a whole number of seconds above 0');
    }
    const requestedLoading = values.modules === undefined ? undefined : parseModuleLoading(values.modules);
    if (values.modules !== undefined && requestedLoading === undefined) throw new UsageError(`--modules must be one of ${moduleLoadings.join(', ')}`);
    if (requestedLoading === ModuleLoading.A2enmod && values['modules-dir'] !== undefined) {
      throw new UsageError('--modules-dir is for --modules load (with a2enmod the config has no LoadModule lines)');
    }
    const file = values.file !== undefined ? resolve(io.cwd, values.file) : defaultConfigFile(io.cwd);
    const source = sourceName(values.file, file, io.cwd);
    const { config, diagnostics } = loadConfig(file, { env: io.env, defines: values.define ?? [] });
    for (const d of diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
    if (hasErrors(diagnostics)) return ExitCode.ConfigOrUsage;

    // Like `wsgate migrate`: the module directory of the config's own LoadModule lines, else of the
    // system's mods-available/; Debian-style systems get a2enmod unless told otherwise.
    const layout = detectApacheLayout(io.env.APACHE_CONFDIR || debianConfDir);
    const moduleLoading = requestedLoading ?? (values['modules-dir'] === undefined && layout.a2enmod ? ModuleLoading.A2enmod : ModuleLoading.Load);
    const modulesDir = values['modules-dir'] ?? inferModulesDir(config.loadedModules.map((m) => m.path)) ?? layout.modulesDir;
    const result = generateApacheConfig(config, {
      style,
      timeout,
      sourceName: source,
      moduleLoading,
      ...(modulesDir === undefined ? {} : { modulesDir }),
      ...backendOptions(values.backend),
    });
    for (const w of result.warnings) io.stderr.write(`wsgate apache: warning: ${w}\n`);
    if (config.endpoints.length === 0) return ExitCode.ConfigOrUsage;
    if (moduleLoading === ModuleLoading.A2enmod) {
      io.stderr.write(`wsgate apache: the config loads no modules; enable them first: ${a2enmodCommand(result.modules)} (or use --modules load)\n`);
    }
    io.stdout.write(result.text);
    return ExitCode.Ok;
  } catch (err) {
    if (err instanceof UsageError || (isWsgateError(err) && err.code === 'USAGE')) {
      io.stderr.write(`wsgate apache: ${err.message}\n${help}`);
      return ExitCode.ConfigOrUsage;
    }
    throw err;
  }
}
