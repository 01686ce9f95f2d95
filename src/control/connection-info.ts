// The JSON view of one live connection, shared by `LIST DETAILS`, `INFO` and the HTTP API: the
// registry's ConnectionSummary (registry/local.ts builds it).
import { formatHostPort } from '../config/values.js';
import type { ConnectionSummary } from '../plugins/types.js';

export type ConnectionInfo = ConnectionSummary;

/** `HOST:PORT`, with IPv6 hosts in brackets so the port stays unambiguous. */
export function formatPeer(conn: Pick<ConnectionSummary, 'remoteAddress' | 'remotePort'>): string {
  return formatHostPort(conn.remoteAddress, conn.remotePort);
}
