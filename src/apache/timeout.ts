// The proxy timeout versus the gateway's keepalive pings. Apache drops a proxied WebSocket that has
// been silent for max(Timeout, the worker's timeout) seconds (TCP close, no close frame: the client
// sees 1006). The gateway's pings are traffic, so a timeout above the ping interval keeps idle
// sockets open.
import type { EndpointConfig, SourceLocation } from '../config/model.js';
import { locationName } from '../config/location-match.js';

/** Used when no endpoint pings: long, but idle sockets are still cut at the end of it. */
export const timeoutWithoutPings = 3600;

export interface TimeoutDecision {
  seconds: number;
  /** The longest ping interval among the endpoints; 0 when none pings. */
  maxPingInterval: number;
  warnings: string[];
}

export function decideProxyTimeout(
  endpoints: readonly EndpointConfig[],
  requested: number | undefined,
  where: (loc: SourceLocation) => string,
): TimeoutDecision {
  const describe = (endpoint: EndpointConfig): string => `${locationName(endpoint)} (${where(endpoint.loc)})`;
  const intervals = endpoints.map((e) => e.settings.pingInterval);
  const maxPingInterval = Math.max(0, ...intervals);
  // Twice the interval: one late or lost ping does not cut the connection.
  const seconds = requested ?? (maxPingInterval > 0 ? 2 * maxPingInterval : timeoutWithoutPings);
  const warnings: string[] = [];
  for (const endpoint of endpoints) {
    const ping = endpoint.settings.pingInterval;
    if (ping === 0) {
      warnings.push(`pings are off for ${describe(endpoint)}: Apache cuts its idle connections after ${seconds} s (set WebSocketPingInterval)`);
    } else if (ping >= seconds) {
      warnings.push(`the proxy timeout ${seconds} s is not greater than the ping interval ${ping} s of ${describe(endpoint)}: Apache will cut its idle connections`);
    }
  }
  return { seconds, maxPingInterval, warnings };
}
