// `wsgate apache`: the Apache 2.4 config that forwards every WebSocket endpoint of a gateway config
// to the gateway. Pure: the same config and options give the same bytes.
import { dirname, isAbsolute, relative } from 'node:path';
import type { EndpointConfig, GatewayConfig, SourceLocation, VirtualHostConfig } from '../config/model.js';
import { backendFromListen, balancerBackend, balancerName, type Backend } from './backend.js';
import { renderEndpointBlock, type BlockContext } from './endpoint-block.js';
import { ModuleLoading, renderModuleLines, requiredModules, type ApacheModule } from './modules.js';
import { indent, quoteArg } from './quote.js';
import { ProxyStyle } from './style.js';
import { decideProxyTimeout, type TimeoutDecision } from './timeout.js';

export interface ApacheGenerateOptions {
  /** Default: the first Listen of the config. */
  backend?: Backend;
  /** Several nodes of one cluster (WebSocketClusterRedis), two or more: a mod_proxy_balancer with
   *  one BalancerMember each replaces `backend`. */
  balancerMembers?: readonly Backend[];
  style?: ProxyStyle;
  /** ProxyTimeout seconds. Default: twice the longest ping interval. */
  timeout?: number;
  /** LoadModule lines (default), or none and a check for a2enmod'ed modules (Debian/Ubuntu). */
  moduleLoading?: ModuleLoading;
  /** Where LoadModule finds modules; relative to Apache's ServerRoot. Default 'modules'. */
  modulesDir?: string;
  /** How the header names the source config. Default: config.file. */
  sourceName?: string;
}

export interface GeneratedApacheConfig {
  text: string;
  warnings: string[];
  /** The modules the text needs (loaded by it, or to enable with a2enmod). */
  modules: ApacheModule[];
}

/** The parts of the output that do not depend on where endpoint blocks are placed. */
export interface ApacheGlobalPart {
  backend: Backend;
  style: ProxyStyle;
  timeout: TimeoutDecision;
  /** Header comment, module loading, the proxy timeout and the capacity note. */
  lines: string[];
  modules: ApacheModule[];
  blockContext: BlockContext;
}

export const defaultModulesDir = 'modules';

/** `file:line` relative to `baseDir` (files outside it stay absolute), so moving a tree does not
 *  change the output. */
export function locationFormatter(baseDir: string): (loc: Pick<SourceLocation, 'file' | 'line'>) => string {
  return (loc) => {
    const rel = isAbsolute(loc.file) ? relative(baseDir, loc.file) : loc.file;
    return `${rel === '' || rel.startsWith('..') ? loc.file : rel}:${loc.line}`;
  };
}

function capacityNote(endpoints: readonly EndpointConfig[]): string[] {
  const limits = endpoints.map((e) => e.settings.maxConnections);
  const total = limits.every((n) => n > 0) ? limits.reduce((a, b) => a + b, 0) : undefined;
  return [
    '# Capacity: every open WebSocket holds one Apache worker thread for its whole life, with the',
    '# event MPM too. Size MaxRequestWorkers (Debian default 150) for the open sockets plus the',
    '# ordinary traffic, and ThreadsPerChild/ServerLimit to match.',
    total === undefined
      ? '# The endpoints set no WebSocketMaxConnections, so the gateway does not bound their number.'
      : `# The endpoints allow at most ${total} sockets in total (WebSocketMaxConnections).`,
  ];
}

/** The timeout rides on the gateway's own proxy workers, so the site's other proxied requests keep
 *  their ProxyTimeout: `timeout=` on each wstunnel ProxyPass, else ProxySet on the worker the
 *  rewrite rules' [P] requests use (for the proxy style also `upgrade=websocket`, without which
 *  mod_proxy_http answers a handshake to an http:// worker with the backend's plain response). */
function timeoutLines(timeout: TimeoutDecision, style: ProxyStyle, backend: Backend): string[] {
  const why =
    timeout.maxPingInterval > 0
      ? `The gateway pings at least every ${timeout.maxPingInterval} s, so idle sockets stay open.`
      : 'The gateway does not ping: idle sockets are cut after this long.';
  const comment = [
    '# Apache drops a proxied WebSocket that is silent for max(Timeout, the proxy timeout) seconds',
    `# (no close frame; clients see 1006). The gateway's proxy timeout is ${timeout.seconds} s, set on its own`,
    "# workers only, so ProxyTimeout and the site's other proxied requests are left alone.",
    `# ${why}`,
  ];
  if (style === ProxyStyle.Wstunnel) return [...comment, `# (timeout=${timeout.seconds} on each ProxyPass below)`];
  const worker = style === ProxyStyle.Proxy ? { url: backend.http, params: 'upgrade=websocket ' } : { url: backend.ws, params: '' };
  return [...comment, `<Proxy ${quoteArg(`${worker.url}/`)}>`, `    ProxySet ${worker.params}timeout=${timeout.seconds}`, '</Proxy>'];
}

/** Several nodes: one BalancerMember each, carrying what the single backend's worker carries
 *  (upgrade=websocket for the proxy style, the timeout). Every node reaches every connection
 *  through Redis, so no stickiness is needed; bybusyness sends each handshake to the node with
 *  the fewest open proxied sockets. */
function balancerLines(timeout: TimeoutDecision, style: ProxyStyle, members: readonly Backend[]): string[] {
  const params = `${style === ProxyStyle.Proxy ? 'upgrade=websocket ' : ''}timeout=${timeout.seconds}`;
  return [
    `# The ${members.length} nodes of the wsgate cluster (WebSocketClusterRedis share one registry, so any node`,
    '# serves any client): each handshake goes to the node with the fewest open sockets.',
    `<Proxy ${quoteArg(balancerName)}>`,
    ...members.map((m) => `    BalancerMember ${quoteArg(style === ProxyStyle.Proxy ? m.http : m.ws)} ${params}`),
    '    ProxySet lbmethod=bybusyness',
    '</Proxy>',
  ];
}

function proxyTimeoutComment(timeout: TimeoutDecision): string[] {
  const why =
    timeout.maxPingInterval > 0
      ? `The gateway pings at least every ${timeout.maxPingInterval} s, so idle sockets stay open.`
      : 'The gateway does not ping: idle sockets are cut after this long.';
  return [
    '# Apache drops a proxied WebSocket that is silent for max(Timeout, the proxy timeout) seconds',
    `# (no close frame; clients see 1006). The gateway's proxy timeout is ${timeout.seconds} s, set on each`,
    "# BalancerMember, so ProxyTimeout and the site's other proxied requests are left alone.",
    `# ${why}`,
  ];
}

/** How the header comment introduces the module lines. */
function moduleIntro(loading: ModuleLoading, modulesDir: string): string {
  if (loading === ModuleLoading.A2enmod) return '# Modules: enabled with a2enmod, none loaded here; a missing one stops apache2 -t.';
  return `# Modules, each loaded unless already loaded (from ${modulesDir}${isAbsolute(modulesDir) ? '' : ' under ServerRoot'}).`;
}

export function renderGlobalPart(config: GatewayConfig, options: ApacheGenerateOptions, generator: string): ApacheGlobalPart {
  const members = options.balancerMembers && options.balancerMembers.length > 1 ? options.balancerMembers : undefined;
  const backend = members ? balancerBackend : (options.backend ?? backendFromListen(config.listen));
  const style = options.style ?? ProxyStyle.Proxy;
  const where = locationFormatter(dirname(config.file));
  const timeout = decideProxyTimeout(config.endpoints, options.timeout, where);
  const needs = {
    headers: config.endpoints.some((e) => e.vhost.tls),
    ssl: (members ?? [backend]).some((b) => b.http.startsWith('https:')),
    balancer: members !== undefined,
  };
  const modulesDir = options.modulesDir ?? defaultModulesDir;
  const loading = options.moduleLoading ?? ModuleLoading.Load;
  const modules = requiredModules(style, needs);
  const lines = [
    `# Apache httpd 2.4 configuration generated by \`${generator}\` from ${options.sourceName ?? config.file}.`,
    members
      ? `# Forwards its WebSocket endpoints to the ${members.length} gateway nodes of ${balancerName} (style: ${style}).`
      : `# Forwards its WebSocket endpoints to the gateway at ${style === ProxyStyle.Proxy ? backend.http : backend.ws} (style: ${style}).`,
    '# Only WebSocket handshakes (Upgrade: websocket) go to the gateway; every other request on these',
    '# URLs stays with Apache (a page may live at /PATH/ next to the WebSocket /PATH).',
    '# Regenerate instead of editing: the same input always gives the same output.',
    ...timeout.warnings.map((w) => `# WARNING: ${w}`),
    '',
    moduleIntro(loading, modulesDir),
    ...renderModuleLines(modules, loading, modulesDir),
    '',
    ...(needs.ssl ? ['# The gateway is reached over TLS.', 'SSLProxyEngine On', ''] : []),
    ...(members ? [...proxyTimeoutComment(timeout), ...balancerLines(timeout, style, members)] : timeoutLines(timeout, style, backend)),
    '',
    ...capacityNote(config.endpoints),
  ];
  const tunnelTimeout = members ? undefined : timeout.seconds;
  return { backend, style, timeout, lines, modules, blockContext: { style, backend, where, tunnelTimeout } };
}

function vhostKey(vhost: VirtualHostConfig): string {
  return vhost.isMain ? 'main' : `${vhost.addresses.join(' ')}|${vhost.serverName ?? ''}|${vhost.loc?.file}:${vhost.loc?.line}`;
}

function vhostBlock(vhost: VirtualHostConfig, endpoints: readonly EndpointConfig[], context: BlockContext): string[] {
  const origin = vhost.loc ? ` at ${context.where(vhost.loc)}` : '';
  const body = [
    ...(vhost.serverName ? [`ServerName ${vhost.serverName}`] : []),
    ...(vhost.serverAliases.length > 0 ? [`ServerAlias ${vhost.serverAliases.join(' ')}`] : []),
    ...(vhost.tls ? ['# TLS (SSLEngine on) in the gateway config: SSLEngine and the certificate lines go here.'] : []),
    ...endpoints.flatMap((e) => ['', ...renderEndpointBlock(e, context)]),
  ];
  return [
    `# Mirrors <VirtualHost ${vhost.addresses.join(' ')}>${origin}. If Apache already has this virtual host,`,
    '# move the lines inside into it instead: Apache uses the first virtual host that matches.',
    `<VirtualHost ${vhost.addresses.join(' ')}>`,
    ...indent(body),
    '</VirtualHost>',
  ];
}

export function generateApacheConfig(config: GatewayConfig, options: ApacheGenerateOptions = {}): GeneratedApacheConfig {
  const global = renderGlobalPart(config, options, 'wsgate apache');
  const groups = new Map<string, { vhost: VirtualHostConfig; endpoints: EndpointConfig[] }>();
  for (const endpoint of config.endpoints) {
    const key = vhostKey(endpoint.vhost);
    const group = groups.get(key) ?? { vhost: endpoint.vhost, endpoints: [] };
    group.endpoints.push(endpoint);
    groups.set(key, group);
  }
  const main = groups.get('main');
  const sections: string[][] = [];
  if (main) sections.push(...main.endpoints.map((e) => renderEndpointBlock(e, global.blockContext)));
  for (const [key, group] of groups) {
    if (key !== 'main') sections.push(vhostBlock(group.vhost, group.endpoints, global.blockContext));
  }
  const warnings = [...global.timeout.warnings];
  if (config.remoteIp.header === undefined || config.remoteIp.trustedProxies.length === 0) {
    // Behind Apache every connection comes from Apache unless the gateway trusts its X-Forwarded-For.
    warnings.push(
      `${options.sourceName ?? config.file} has no RemoteIPHeader X-Forwarded-For + RemoteIPInternalProxy for Apache's address: handlers, logs and the control channel will see Apache, not the browser`,
    );
  }
  if (config.endpoints.length === 0) {
    warnings.push(`${options.sourceName ?? config.file} has no WebSocket endpoint (<Location> with SetHandler websocket-handler)`);
  }
  const lines = [...global.lines, ...sections.flatMap((s) => ['', ...s])];
  return { text: `${lines.join('\n')}\n`, warnings, modules: global.modules };
}

