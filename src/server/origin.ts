// WebSocketOriginCheck Same|Trusted|Off, compatible with the maintained mod_websocket fork.
// Requests without an Origin pass: only browsers send one, and only browsers need protecting.
import type { EndpointSettings } from '../config/model.js';

/** `http://Example.com:80` → `example.com` (URL drops the scheme's default port); undefined if unparsable. */
function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return undefined;
  }
}

/** Normalised full origin (`scheme://host[:port]`) of a WebSocketTrustedOrigin entry or an Origin header. */
function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.origin === 'null' ? undefined : parsed.origin.toLowerCase();
  } catch {
    return undefined;
  }
}

export interface OriginContext {
  origin: string | undefined;
  /** The Host the client used: X-Forwarded-Host from a trusted proxy, else Host. */
  effectiveHost: string | undefined;
  /** http or https: X-Forwarded-Proto from a trusted proxy, else the vhost's scheme. */
  effectiveScheme: string;
}

export function originAllowed(settings: EndpointSettings, ctx: OriginContext): boolean {
  if (settings.originCheck === 'off' || ctx.origin === undefined) return true;
  if (settings.originCheck === 'trusted') {
    const origin = originOf(ctx.origin);
    if (origin !== undefined && settings.trustedOrigins.some((t) => originOf(t) === origin)) return true;
  }
  if (ctx.effectiveHost === undefined) return false;
  const originHost = hostOf(ctx.origin);
  const requestHost = hostOf(`${ctx.effectiveScheme}://${ctx.effectiveHost}`);
  return originHost !== undefined && originHost === requestHost;
}
