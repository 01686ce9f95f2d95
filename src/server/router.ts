// Request → endpoint, as Apache would pick it: name-based VirtualHost first (Host against
// ServerName/ServerAlias, else the first vhost on that port), then the Location sections of the
// main server followed by the vhost's own (Apache merges vhost sections over the main server's),
// the LAST matching section in that order winning.
import type { EndpointConfig, GatewayConfig, VirtualHostConfig } from '../config/model.js';

interface VhostRoute {
  vhost: VirtualHostConfig;
  /** undefined = any port. */
  ports: Set<number> | undefined;
  names: RegExp[];
  /** The main server's endpoints, then this vhost's, in config order. */
  endpoints: EndpointConfig[];
}

/** Apache host-name wildcards: `*` any run of characters, `?` one character. */
function wildcardToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

/** The port of a `<VirtualHost addr:port>` address; undefined for `*`, `_default_` or a bare host. */
function addressPort(address: string): number | undefined {
  const match = /:(\d+)$/.exec(address);
  return match ? Number(match[1]) : undefined;
}

/** `example.com:8080` → `example.com`; `[::1]:80` → `::1`. */
export function hostName(host: string | undefined): string | undefined {
  if (host === undefined || host === '') return undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end > 0 ? host.slice(1, end) : host;
  }
  const colon = host.indexOf(':');
  return colon >= 0 ? host.slice(0, colon) : host;
}

/** Same vhost: the same object, or (for configs built by hand) the same `<VirtualHost>` line. */
function sameVhost(a: VirtualHostConfig, b: VirtualHostConfig): boolean {
  if (a === b) return true;
  return a.loc !== undefined && b.loc !== undefined && a.loc.file === b.loc.file && a.loc.line === b.loc.line && a.loc.column === b.loc.column;
}

function matches(endpoint: EndpointConfig, path: string): boolean {
  const m = endpoint.match;
  return m.kind === 'prefix' ? path.startsWith(m.path) : m.regex.test(path);
}

/** The Location as written in the config: the registry and the control channel filter on it. */
export function locationName(endpoint: EndpointConfig): string {
  return endpoint.match.kind === 'prefix' ? endpoint.match.path : endpoint.match.source;
}

export class Router {
  private readonly vhosts: VhostRoute[];
  private readonly main: EndpointConfig[];

  constructor(config: GatewayConfig) {
    this.main = config.endpoints.filter((e) => e.vhost.isMain);
    this.vhosts = config.virtualHosts
      .filter((v) => !v.isMain)
      .map((vhost) => {
        const ports = vhost.addresses.map(addressPort);
        return {
          vhost,
          ports: ports.length === 0 || ports.includes(undefined) ? undefined : new Set(ports as number[]),
          names: [vhost.serverName, ...vhost.serverAliases].filter((n): n is string => !!n).map(wildcardToRegExp),
          endpoints: [...this.main, ...config.endpoints.filter((e) => !e.vhost.isMain && sameVhost(e.vhost, vhost))],
        };
      });
  }

  route(host: string | undefined, localPort: number, path: string): EndpointConfig | undefined {
    const candidates = this.selectVhost(hostName(host), localPort);
    for (let i = candidates.length - 1; i >= 0; i--) {
      const endpoint = candidates[i]!;
      if (matches(endpoint, path)) return endpoint;
    }
    return undefined;
  }

  private selectVhost(name: string | undefined, port: number): EndpointConfig[] {
    let fallback: VhostRoute | undefined;
    for (const route of this.vhosts) {
      if (route.ports !== undefined && !route.ports.has(port)) continue;
      fallback ??= route;
      if (name !== undefined && route.names.some((r) => r.test(name))) return route.endpoints;
    }
    return fallback ? fallback.endpoints : this.main;
  }
}
