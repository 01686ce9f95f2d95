// The Apache lines that forward one WebSocket endpoint to the gateway. Each block is self-contained,
// so it can stand where the mod_websocket <Location> block stood (wsgate migrate does exactly that).
import { locationName } from '../config/location-match.js';
import type { EndpointConfig, SourceLocation } from '../config/model.js';
import type { Backend } from './backend.js';
import { indent, quoteArg } from './quote.js';
import { ProxyStyle } from './style.js';

export interface BlockContext {
  style: ProxyStyle;
  backend: Backend;
  /** Seconds a proxied WebSocket may stay silent: the `timeout=` of each ProxyPass. */
  tunnelTimeout: number;
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

function proxyPassBlock(endpoint: EndpointConfig, context: BlockContext, extra: readonly string[]): string[] {
  const wstunnel = context.style === ProxyStyle.Wstunnel;
  const target = proxyTarget(endpoint, wstunnel ? context.backend.ws : context.backend.http);
  const body = wstunnel
    ? [
        `ProxyPass ${quoteArg(target)} timeout=${context.tunnelTimeout}`,
        // Off keeps the old mod_proxy_wstunnel tunnel (2.4.47+ hands ws:// to mod_proxy_http by default).
        '<IfDirective ProxyWebsocketFallbackToProxyHttp>',
        '    ProxyWebsocketFallbackToProxyHttp Off',
        '</IfDirective>',
      ]
    : [`ProxyPass ${quoteArg(target)} upgrade=websocket timeout=${context.tunnelTimeout}`, `ProxyPassReverse ${quoteArg(target)}`];
  return [sectionOpen(endpoint), ...indent([...forwardedContext(endpoint, extra), ...body]), sectionClose(endpoint)];
}

/** The rules sit inside the endpoint's section: server-context rewrite rules do not reach virtual
 *  hosts (each would need its own RewriteEngine On), while a server-level <Location> applies in every
 *  vhost. The section does the matching, so the rule's pattern is just `^`. */
function rewriteBlock(endpoint: EndpointConfig, context: BlockContext, extra: readonly string[]): string[] {
  return [
    sectionOpen(endpoint),
    ...indent([
      ...forwardedContext(endpoint, extra),
      'RewriteEngine On',
      'RewriteCond "%{HTTP:Upgrade}" "websocket" [NC]',
      `RewriteRule "^" ${quoteArg(`${context.backend.ws}%{REQUEST_URI}`)} [P,L]`,
    ]),
    sectionClose(endpoint),
  ];
}

/** `extra`: Apache lines to keep inside the section (access control that runs before proxying). */
export function renderEndpointBlock(endpoint: EndpointConfig, context: BlockContext, extra: readonly string[] = []): string[] {
  const header = `# WebSocket endpoint ${locationName(endpoint)} (${context.where(endpoint.loc)})`;
  const block = context.style === ProxyStyle.Rewrite ? rewriteBlock(endpoint, context, extra) : proxyPassBlock(endpoint, context, extra);
  return [header, ...block];
}
