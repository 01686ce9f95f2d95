// The gateway's config written by `wsgate migrate`: one <Location> per migrated endpoint, grouped by
// the Apache virtual host it came from, each naming the Apache line it replaces.
import { locationName, writtenSection } from '../../config/location-match.js';
import { formatHostPort } from '../../config/values.js';
import { configArg, indent, renderDirective } from '../quote.js';
import type { MergedEndpoint } from './merge.js';
import { vhostKey } from './merge.js';

export interface ListenSpec {
  host: string;
  port: number;
}

export function formatListen(listen: ListenSpec): string {
  return formatHostPort(listen.host, listen.port);
}

function endpointLines(e: MergedEndpoint, where: (loc: MergedEndpoint['primary']['node']['loc']) => string): string[] {
  const section = writtenSection(e.config.match);
  const open = `<${section} ${configArg(locationName(e.config))}>`;
  const from = e.occurrences.map((o) => where(o.node.loc)).join(', ');
  return [
    `# from ${from}`,
    open,
    ...indent([
      'SetHandler websocket-handler',
      `WebSocketHandler ${e.primary.handler.args.map(configArg).join(' ')}`,
      ...e.settings.flatMap((s) => renderDirective({ name: s.name, args: s.args })),
    ]),
    `</${section}>`,
  ];
}

export function renderWsgateConf(
  endpoints: readonly MergedEndpoint[],
  listen: ListenSpec,
  source: string,
  where: (loc: MergedEndpoint['primary']['node']['loc']) => string,
): string {
  const main = endpoints.filter((e) => e.primary.vhost.isMain);
  const byVhost = new Map<string, MergedEndpoint[]>();
  for (const e of endpoints) {
    if (e.primary.vhost.isMain) continue;
    const key = vhostKey(e.primary.vhost);
    byVhost.set(key, [...(byVhost.get(key) ?? []), e]);
  }
  const lines = [
    `# wsgate configuration written by \`wsgate migrate\` from ${source}.`,
    '# The endpoints below were served by mod_websocket; Apache now forwards them here',
    '# (see apache-wsgate.conf and MIGRATION.md).',
    '',
    `Listen ${formatListen(listen)}`,
    '',
    '# Behind Apache the TCP peer is Apache: take the client address from X-Forwarded-For,',
    '# believed only when the request comes from Apache on this machine.',
    'RemoteIPHeader X-Forwarded-For',
    'RemoteIPInternalProxy 127.0.0.1 ::1',
    ...main.flatMap((e) => ['', ...endpointLines(e, where)]),
  ];
  for (const group of byVhost.values()) {
    const vhost = group[0]!.primary.vhost;
    const origin = vhost.loc ? ` at ${where(vhost.loc)}` : '';
    lines.push(
      '',
      `# Apache's <VirtualHost ${vhost.addresses.join(' ')}>${origin}. Apache now connects to the gateway's`,
      '# Listen port, so the vhost answers there; Host (kept by ProxyPreserveHost) picks it.',
      `<VirtualHost *:${listen.port}>`,
      ...indent([
        ...(vhost.serverName ? [`ServerName ${vhost.serverName}`] : []),
        ...(vhost.serverAliases.length ? [`ServerAlias ${vhost.serverAliases.join(' ')}`] : []),
        ...(vhost.tls ? ['# TLS ends in Apache; recorded so `wsgate apache` adds X-Forwarded-Proto.', 'SSLEngine on'] : []),
        ...group.flatMap((e) => ['', ...endpointLines(e, where)]),
      ]),
      '</VirtualHost>',
    );
  }
  return `${lines.join('\n')}\n`;
}
