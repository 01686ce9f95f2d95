// `wsgate apache [-f FILE] [--backend URL] [--style proxy|wstunnel|rewrite] [--timeout SECONDS]
//  [--modules-dir DIR]`: prints the Apache config that forwards FILE's WebSocket endpoints to the gateway.
import { resolve } from 'node:path';
import { parseBackend } from '../apache/backend.js';
import { generateApacheConfig } from '../apache/generate.js';
import { parseProxyStyle, proxyStyles } from '../apache/style.js';
import { formatDiagnostic, hasErrors } from '../config/diagnostics.js';
import { loadConfig } from '../config/load.js';
import { isWsgateError } from '../errors.js';
import { ExitCode, type CliIO } from './io.js';
import { parseCommandArgs, UsageError } from './main.js';

const help = `usage: wsgate apache [-f FILE] [--backend URL] [--style proxy|wstunnel|rewrite]
                     [--timeout SECONDS] [--modules-dir DIR]

Prints the Apache httpd 2.4 config that forwards every WebSocket endpoint of FILE
(default conf/wsgate.conf) to the gateway.
  --backend URL      the gateway as Apache reaches it (default: FILE's first Listen)
  --style STYLE      proxy (default): ProxyPass http://… upgrade=websocket
                     wstunnel: ProxyPass ws://… through mod_proxy_wstunnel
                     rewrite: mod_rewrite on the Upgrade header (the URL also serves plain HTTP)
  --timeout SECONDS  proxy timeout of the gateway's workers (ProxyPass timeout=; default: twice
                     the longest WebSocketPingInterval). ProxyTimeout itself is left alone.
  --modules-dir DIR  where LoadModule finds modules, relative to Apache's ServerRoot
                     (default: modules; Debian/Ubuntu: /usr/lib/apache2/modules)
`;

export async function apache(args: string[], io: CliIO): Promise<number> {
  try {
    const { values } = parseCommandArgs({
      args,
      options: {
        file: { type: 'string', short: 'f', default: 'conf/wsgate.conf' },
        backend: { type: 'string' },
        style: { type: 'string', default: 'proxy' },
        timeout: { type: 'string' },
        'modules-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    });
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
    const { config, diagnostics } = loadConfig(resolve(io.cwd, values.file), { env: io.env });
    for (const d of diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
    if (hasErrors(diagnostics)) return ExitCode.ConfigOrUsage;
    const result = generateApacheConfig(config, {
      style,
      timeout,
      sourceName: values.file,
      ...(values.backend === undefined ? {} : { backend: parseBackend(values.backend) }),
      ...(values['modules-dir'] === undefined ? {} : { modulesDir: values['modules-dir'] }),
    });
    for (const w of result.warnings) io.stderr.write(`wsgate apache: warning: ${w}\n`);
    if (config.endpoints.length === 0) return ExitCode.ConfigOrUsage;
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
