// Request → endpoint, as Apache would pick it: name-based VirtualHost first (Host against
// ServerName/ServerAlias, else the first vhost on that port), then the Location sections of the
// main server followed by the vhost's own (Apache merges vhost sections over the main server's),
// the LAST matching section in that order winning.
import type { EndpointConfig, GatewayConfig, VirtualHostConfig } from '../config/model.js';
import { prefixLocationMatches } from '../config/location-match.js';
import { maxRegexPathLength } from '../config/pcre.js';
import { configuredHostName, hostName } from './host-name.js';
import { vhostPorts } from './vhost-ports.js';

interface VhostRoute {
  vhost: VirtualHostConfig;
  /** undefined = any port. */
  ports: Set<number> | undefined;
  names: RegExp[];
  /** The main server's endpoints, then this vhost's, in config order. */
  endpoints: EndpointConfig[];
}

/** Apache host-name wildcards: `*` any run of characters, `?` one character. */
export function wildcardToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

/** Same vhost: the same object, or (for configs built by hand) the same `<VirtualHost>` line. */
function sameVhost(a: VirtualHostConfig, b: VirtualHostConfig): boolean {
  if (a === b) return true;
  return a.loc !== undefined && b.loc !== undefined && a.loc.file === b.loc.file && a.loc.line === b.loc.line && a.loc.column === b.loc.column;
}

function matches(endpoint: EndpointConfig, path: string): boolean {
  const m = endpoint.match;
  // The config refuses patterns whose cost on a path this long is too high (config/pcre.ts);
  // a longer path only reaches prefix Locations.
  return m.kind === 'prefix' ? prefixLocationMatches(m.path, path) : path.length <= maxRegexPathLength && m.regex.test(path);
}

export class Router {
  private readonly vhosts: VhostRoute[];
  private readonly main: EndpointConfig[];

  constructor(config: GatewayConfig) {
    this.main = config.endpoints.filter((e) => e.vhost.isMain);
    this.vhosts = config.virtualHosts
      .filter((v) => !v.isMain)
      .map((vhost) => {
        // ServerName may carry a scheme and a port (`https://ws.example.com:8443`): Apache matches the name alone.
        const names = [vhost.serverName, ...vhost.serverAliases].map((n) => (n ? configuredHostName(n) : undefined));
        return {
          vhost,
          ports: vhostPorts(vhost),
          names: names.filter((n): n is string => n !== undefined).map(wildcardToRegExp),
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
      // No DNS name is longer than 253 characters: a longer Host (up to the 16 KiB header limit) is
      // not tried against wildcard aliases, where each `*` would multiply the backtracking.
      if (name !== undefined && name.length <= 253 && route.names.some((r) => r.test(name))) return route.endpoints;
    }
    return fallback ? fallback.endpoints : this.main;
  }
}
