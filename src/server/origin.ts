// WebSocketOriginCheck Same|Trusted|Off, compatible with the maintained mod_websocket fork: the full
// origin (scheme://host[:port]) is compared exactly, after URL normalisation (lower case, default
// port dropped, so `http://h` equals `http://h:80`). Requests without an Origin pass: only browsers
// send one, and only browsers need protecting.
import type { EndpointSettings } from '../config/model.js';
import { normaliseOrigin } from '../config/origin-form.js';
import { pageScheme } from './scheme.js';

export interface OriginContext {
  origin: string | undefined;
  /** The Host the client used: X-Forwarded-Host from a trusted proxy, else Host. */
  effectiveHost: string | undefined;
  /** X-Forwarded-Proto from a trusted proxy (http/https/ws/wss), else the connection's own scheme. */
  effectiveScheme: string;
}

/** The origin of a page served from the endpoint itself; undefined when it cannot be known. */
function ownOrigin(ctx: OriginContext): string | undefined {
  const scheme = pageScheme(ctx.effectiveScheme);
  // A Host carrying `/`, `@`, `?`… fails normaliseOrigin, so it cannot smuggle in another authority.
  if (scheme === undefined || ctx.effectiveHost === undefined || ctx.effectiveHost === '') return undefined;
  return normaliseOrigin(`${scheme}://${ctx.effectiveHost}`);
}

export function originAllowed(settings: EndpointSettings, ctx: OriginContext): boolean {
  if (settings.originCheck === 'off' || ctx.origin === undefined) return true;
  const origin = normaliseOrigin(ctx.origin);
  if (origin === undefined) return false;
  // Trusted means the list and nothing else: the fork does not fall back to same-origin.
  if (settings.originCheck === 'trusted') return settings.trustedOrigins.includes(origin);
  return origin === ownOrigin(ctx);
}
