// The Apache lines that forward one WebSocket endpoint to the gateway. Each block is self-contained,
// so it can stand where the mod_websocket <Location> block stood (wsgate migrate does exactly that).
// In every style only WebSocket handshakes (Upgrade: websocket) reach the gateway; every other
// request on the endpoint's URLs stays with Apache, so a page can live at /board/ (a directory
// under DocumentRoot) next to the WebSocket /board, and `GET /board` gets mod_dir's 301 to /board/.
import { locationName } from '../config/location-match.js';
import type { EndpointConfig, SourceLocation } from '../config/model.js';
import type { Backend } from './backend.js';
import { indent, quoteArg } from './quote.js';
import { ProxyStyle } from './style.js';

/** The Upgrade value that marks a WebSocket handshake (case-insensitive, as browsers vary). */
const upgradePattern = 'websocket';

export interface BlockContext {
  style: ProxyStyle;
  backend: Backend;
  /** Seconds a proxied WebSocket may stay silent (wstunnel: `timeout=` of each ProxyPass; the
   *  other styles set it once on the gateway's worker). undefined: set on each BalancerMember. */
  tunnelTimeout: number | undefined;
  /** `file:line` as shown in comments (relative to the config's directory, so output is stable). */
  where: (loc: SourceLocation) => string;
}

/** A wildcard <Location> becomes a <LocationMatch> on its anchored regex: mod_proxy would take the
 *  pattern of a wildcard <Location> as a literal path prefix. */
function sectionOpen(endpoint: EndpointConfig): string {
  const { match } = endpoint;
  if (match.kind === 'prefix') return `<Location ${quoteArg(match.path)}>`;
  return `<LocationMatch ${quoteArg(match.wildcard ? match.regex.source : match.source)}>`;
}

function sectionClose(endpoint: EndpointConfig): string {
  return endpoint.match.kind === 'prefix' ? '</Location>' : '</LocationMatch>';
}

/** Apache passes Host as the backend address unless told otherwise; the gateway routes virtual
 *  hosts and checks origins by the client's Host. Behind TLS the gateway cannot see the scheme. */
function forwardedContext(endpoint: EndpointConfig, extra: readonly string[]): string[] {
  const lines = [...extra, 'ProxyPreserveHost On'];
  if (endpoint.vhost.tls) lines.push('RequestHeader set X-Forwarded-Proto "https"');
  return lines;
}

/** Inside <Location> ProxyPass takes only the target; the request path after the Location prefix is
 *  appended. Inside <LocationMatch> a target without `$N` gets the whole request path appended. */
function proxyTarget(endpoint: EndpointConfig, origin: string): string {
  return endpoint.match.kind === 'prefix' ? origin + encodeURI(endpoint.match.path) : origin;
}

/** mod_proxy_wstunnel (FallbackToProxyHttp Off) declines a request without Upgrade when it maps the
 *  URL, so plain requests fall through to Apache's own handling (measured on 2.4.71). */
function wstunnelBlock(endpoint: EndpointConfig, context: BlockContext, extra: readonly string[]): string[] {
  const target = proxyTarget(endpoint, context.backend.ws);
  const body = [
    `ProxyPass ${quoteArg(target)}${context.tunnelTimeout === undefined ? '' : ` timeout=${context.tunnelTimeout}`}`,
    // Off keeps the old mod_proxy_wstunnel tunnel (2.4.47+ hands ws:// to mod_proxy_http by default,
    // which would also forward plain requests).
    '<IfDirective ProxyWebsocketFallbackToProxyHttp>',
    '    ProxyWebsocketFallbackToProxyHttp Off',
    '</IfDirective>',
  ];
  return [sectionOpen(endpoint), ...indent([...forwardedContext(endpoint, extra), ...body]), sectionClose(endpoint)];
}

/** ProxyPass cannot be limited to Upgrade requests (it maps URLs before any per-request condition,
 *  and is refused inside <If>), so the proxy and rewrite styles select the handshakes with
 *  mod_rewrite. The rules sit inside the endpoint's section: server-context rewrite rules do not
 *  reach virtual hosts (each would need its own RewriteEngine On), while a server-level <Location>
 *  applies in every vhost. The section does the matching, so the rule's pattern is just `^`; the
 *  query string passes unchanged. Per-directory rules run in the fixup phase, where mod_dir would
 *  still answer a handshake to /board with its 301 to /board/ (or replace /board/ by its index
 *  file) when that directory exists: the <If> turns both off for handshakes only. */
function upgradeRewriteBlock(endpoint: EndpointConfig, context: BlockContext, extra: readonly string[]): string[] {
  const origin = context.style === ProxyStyle.Proxy ? context.backend.http : context.backend.ws;
  return [
    sectionOpen(endpoint),
    ...indent([
      ...forwardedContext(endpoint, extra),
      'RewriteEngine On',
      `RewriteCond "%{HTTP:Upgrade}" "${upgradePattern}" [NC]`,
      `RewriteRule "^" ${quoteArg(`${origin}%{REQUEST_URI}`)} [P,L]`,
      '# A directory of the same name under DocumentRoot must not turn the handshake into a 301.',
      '<IfModule dir_module>',
      `    <If "%{HTTP:Upgrade} =~ /${upgradePattern}/i">`,
      '        DirectorySlash Off',
      '        DirectoryCheckHandler On',
      '    </If>',
      '</IfModule>',
    ]),
    sectionClose(endpoint),
  ];
}

/** `extra`: Apache lines to keep inside the section (access control that runs before proxying). */
export function renderEndpointBlock(endpoint: EndpointConfig, context: BlockContext, extra: readonly string[] = []): string[] {
  const header = `# WebSocket endpoint ${locationName(endpoint)} (${context.where(endpoint.loc)})`;
  const block = context.style === ProxyStyle.Wstunnel ? wstunnelBlock(endpoint, context, extra) : upgradeRewriteBlock(endpoint, context, extra);
  return [header, ...block];
}
