// One gateway endpoint per (vhost, Location): mod_websocket setups often repeat each Location in an
// <IfModule mod_websocket_draft76.c> block; the gateway serves every protocol version from one.
import { extname } from 'node:path';
import type { EndpointConfig, EndpointSettings, HandlerSpec, VirtualHostConfig } from '../../config/model.js';
import { defaultEndpointSettings, findDirective, spelledName } from '../../config/schema.js';
import type { ResolvedNode } from '../../config/tree.js';
import type { FoundEndpoint, FoundVhost, Note } from './scan.js';

export interface MergedEndpoint {
  /** The first occurrence: its handler is used, its block is replaced by the proxy block. */
  primary: FoundEndpoint;
  occurrences: FoundEndpoint[];
  /** Settings in config order, later occurrences after earlier ones (later wins, as in Apache). */
  settings: ResolvedNode[];
  config: EndpointConfig;
}

export function vhostKey(vhost: FoundVhost): string {
  return vhost.isMain ? 'main' : `${vhost.loc?.file}:${vhost.loc?.line}`;
}

function endpointKey(e: FoundEndpoint): string {
  return `${vhostKey(e.vhost)}|${e.match.kind}|${e.match.kind === 'prefix' ? e.match.path : e.match.source}`;
}

const jsExtensions = new Set(['.js', '.mjs', '.cjs']);

function handlerSpec(e: FoundEndpoint): HandlerSpec {
  const [path = '', second] = e.handler.args;
  return jsExtensions.has(extname(path))
    ? { kind: 'js', path, exportName: second, loc: e.handler.loc }
    : { kind: 'native', path, init: second ?? '', loc: e.handler.loc };
}

/** The settings, and the directives that gave them (those with values wsgate rejects are left out). */
function applySettings(nodes: readonly ResolvedNode[], notes: Note[]): { settings: EndpointSettings; valid: ResolvedNode[] } {
  const settings = defaultEndpointSettings();
  const valid: ResolvedNode[] = [];
  for (const node of nodes) {
    // Either name of a directive (MaxMessageSize / the fork's WebSocketMaxMessageSize) sets the same field.
    const spec = findDirective(node.name);
    if (spec?.kind !== 'endpoint') {
      valid.push(node);
      continue;
    }
    try {
      const value = spec.parse(node.args, spelledName(spec, node.name));
      valid.push(node);
      (settings as unknown as Record<string, unknown>)[spec.field] =
        spec.append && Array.isArray(value) ? [...(settings[spec.field] as unknown[]), ...value] : value;
    } catch (err) {
      notes.push({ kind: 'unsupported', loc: node.loc, text: `\`${node.name} ${node.args.join(' ')}\` not carried over: ${(err as Error).message}` });
    }
  }
  return { settings, valid };
}

export function toVirtualHost(vhost: FoundVhost): VirtualHostConfig {
  return { ...vhost, serverAliases: [...vhost.serverAliases] };
}

export function mergeEndpoints(found: readonly FoundEndpoint[], notes: Note[]): MergedEndpoint[] {
  const groups = new Map<string, FoundEndpoint[]>();
  for (const e of found) groups.set(endpointKey(e), [...(groups.get(endpointKey(e)) ?? []), e]);
  const vhosts = new Map<string, VirtualHostConfig>();
  return [...groups.values()].map((occurrences) => {
    const primary = occurrences[0] as FoundEndpoint;
    for (const other of occurrences.slice(1)) {
      if (other.handler.args.join(' ') !== primary.handler.args.join(' ')) {
        notes.push({
          kind: 'unsupported',
          loc: other.handler.loc,
          text: `a second WebSocketHandler for the same Location (${other.handler.args.join(' ')}); the gateway serves every protocol version with the first (${primary.handler.args.join(' ')})`,
        });
      }
    }
    const { settings, valid } = applySettings(occurrences.flatMap((o) => o.settings), notes);
    const key = vhostKey(primary.vhost);
    const vhost = vhosts.get(key) ?? toVirtualHost(primary.vhost);
    vhosts.set(key, vhost);
    const config: EndpointConfig = { vhost, match: primary.match, handler: handlerSpec(primary), settings, loc: primary.node.loc };
    return { primary, occurrences, settings: valid, config };
  });
}
