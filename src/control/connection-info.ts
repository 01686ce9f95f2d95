// The JSON view of one live connection, shared by `LIST DETAILS`, `INFO` and the HTTP API.
import { formatHostPort } from '../config/values.js';
import type { Connection } from '../plugins/types.js';

export interface ConnectionInfo {
  id: string;
  remoteAddress: string;
  remotePort: number;
  /** The Location the connection matched, as written in the config. */
  location: string;
  /** The request path without the query string. */
  path: string;
  /** 13, 8, 7, 'hixie-76' or 'hixie-75'. */
  version: number | string;
  /** The chosen subprotocol, '' when none. */
  protocol: string;
  origin: string | null;
  groups: string[];
  /** ISO 8601, UTC. */
  connectedAt: string;
}

export function describeConnection(conn: Connection): ConnectionInfo {
  return {
    id: conn.id,
    remoteAddress: conn.remoteAddress,
    remotePort: conn.remotePort,
    location: conn.location,
    path: conn.path,
    version: conn.version,
    protocol: conn.protocol,
    origin: conn.origin ?? null,
    groups: [...conn.groups].sort(),
    connectedAt: conn.connectedAt.toISOString(),
  };
}

/** `HOST:PORT`, with IPv6 hosts in brackets so the port stays unambiguous. */
export function formatPeer(conn: Pick<Connection, 'remoteAddress' | 'remotePort'>): string {
  return formatHostPort(conn.remoteAddress, conn.remotePort);
}
