// The gateway address Apache forwards to: `--backend URL`, or the first Listen of the config.
import { WsgateError } from '../errors.js';
import type { ListenAddress } from '../config/model.js';

export interface Backend {
  /** 'http://127.0.0.1:8080' — no trailing slash, no path. */
  http: string;
  /** The same origin with the WebSocket scheme: 'ws://127.0.0.1:8080'. */
  ws: string;
}

/** An address Apache can connect to: wildcard listens become loopback, IPv6 gets brackets. */
function connectHost(host: string | undefined): string {
  if (host === undefined || host === '' || host === '*' || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export function backendFromListen(listen: readonly ListenAddress[]): Backend {
  const first = listen[0];
  const origin = first ? `${connectHost(first.host)}:${first.port}` : '127.0.0.1:8080';
  return { http: `http://${origin}`, ws: `ws://${origin}` };
}

/** Where the generated config sends handshakes when there are several nodes (`--backend` twice or
 *  more): mod_proxy_balancer's balancer, one BalancerMember per node. */
export const balancerName = 'balancer://wsgate';

/** The balancer as the endpoint blocks' target, for every style. */
export const balancerBackend: Backend = { http: balancerName, ws: balancerName };

/** Parses `--backend`: http(s):// or ws(s):// with host and optional port, no path. */
export function parseBackend(value: string): Backend {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WsgateError('USAGE', `--backend: '${value}' is not a URL (expected e.g. http://127.0.0.1:8080)`);
  }
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new WsgateError('USAGE', `--backend: scheme must be http, https, ws or wss, not '${url.protocol.slice(0, -1)}'`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw new WsgateError('USAGE', `--backend: give only scheme, host and port ('${value}' has a path or query)`);
  }
  return { http: `${secure ? 'https' : 'http'}://${url.host}`, ws: `${secure ? 'wss' : 'ws'}://${url.host}` };
}
