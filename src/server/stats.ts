// What the gateway of one process has done, as plain counters for metrics and `wsgate status`.
// Nothing here runs per message: handshakes are counted once each, a connection's own counters
// (connection.ts) are added in when it closes, and the live ones are read at snapshot time.
// Handler failures are counted where they are caught (they are rare, and one thrown by
// onDisconnect comes after its connection's counters were added in).
import type { ProtocolVersion } from '../protocol/types.js';

/** The handler callbacks whose throws (or rejected promises) are counted. A native plugin's
 *  failures count under the adapter callback that reported them (onConnect: out of memory, or
 *  a subprotocol the client did not offer). */
export type HandlerCallback = 'onConnect' | 'onMessage' | 'onReadStart' | 'onReadEnd' | 'releasedMessages' | 'onClosing' | 'onDisconnect';

/** A connection's counters and how it ended so far (its connection log's), read at close and at
 *  scrape time, so nothing is added per message. */
export interface ConnectionCounters {
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  bytesOut: number;
  closeSent: number | undefined;
  closeReceived: number | undefined;
  closedBy: 'client' | 'server' | undefined;
  closeReason: string;
}

/** What the counting needs of a connection (WsConnection is one). */
export interface CountedConnection {
  readonly location: string;
  readonly version: ProtocolVersion;
  readonly counters: ConnectionCounters;
}

/** Per Location: open connections by protocol version, and totals over closed and open ones. */
export interface LocationStats {
  location: string;
  open: Record<string, number>;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Connections closed with 1008 because their send queue (or a C plugin's) was full. */
  sendQueueOverflows: number;
  /** Throws and rejections of the handler's callbacks, by callback (only those that failed). */
  handlerErrors: Partial<Record<HandlerCallback, number>>;
}

/** Plain data: it crosses the worker → supervisor channel. */
export interface GatewayStatsSnapshot {
  /** Handshakes by answer: '101', and each refusal status ('400', '403', …, '500'). */
  handshakes: Record<string, number>;
  /** Close frames by code (1005: a close without a code). */
  closeSent: Record<string, number>;
  closeReceived: Record<string, number>;
  locations: LocationStats[];
}

type Totals = Omit<LocationStats, 'location' | 'open'>;
type Traffic = Pick<Totals, 'messagesIn' | 'messagesOut' | 'bytesIn' | 'bytesOut'>;

const OVERFLOW_REASON = 'send queue limit exceeded';

function zero(): Totals {
  return { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, sendQueueOverflows: 0, handlerErrors: {} };
}

function bump(counts: Partial<Record<string, number>>, key: number | string | undefined): void {
  if (key === undefined) return;
  counts[key] = (counts[key] ?? 0) + 1;
}

export class GatewayStats {
  private readonly handshakes: Record<string, number> = {};
  private readonly closeSent: Record<string, number> = {};
  private readonly closeReceived: Record<string, number> = {};
  private readonly closed = new Map<string, Totals>();
  /** What the last snapshot reported: a live connection's outgoing counters shrink when an
   *  overflow drops what it had queued, and a Prometheus counter must never go down. */
  private readonly reported = new Map<string, Traffic>();

  /** `locations`: the config's Location names, listed even while nobody is connected. */
  constructor(locations: readonly string[] = []) {
    for (const location of locations) this.closed.set(location, zero());
  }

  /** A handshake answered `status` (101, or the refusal's). */
  answered(status: number): void {
    bump(this.handshakes, status);
  }

  /** A handler callback of a connection at `location` threw, or its promise rejected. */
  handlerFailed(location: string, callback: HandlerCallback): void {
    bump(this.totalsOf(location).handlerErrors, callback);
  }

  /** A connection ended (its counters are final). */
  connectionClosed(conn: CountedConnection): void {
    const c = conn.counters;
    const totals = this.totalsOf(conn.location);
    totals.messagesIn += c.messagesIn;
    totals.messagesOut += c.messagesOut;
    totals.bytesIn += c.bytesIn;
    totals.bytesOut += c.bytesOut;
    if (c.closeSent === 1008 && c.closeReason === OVERFLOW_REASON) totals.sendQueueOverflows++;
    bump(this.closeSent, c.closeSent);
    bump(this.closeReceived, c.closeReceived);
  }

  /** Closed connections' totals plus the live ones' counters now. */
  snapshot(live: Iterable<CountedConnection>): GatewayStatsSnapshot {
    const open = new Map<string, Record<string, number>>();
    const traffic = new Map<string, Traffic>();
    for (const conn of live) {
      bump((open.get(conn.location) ?? open.set(conn.location, {}).get(conn.location))!, conn.version);
      const t = traffic.get(conn.location) ?? { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 };
      const c = conn.counters;
      t.messagesIn += c.messagesIn;
      t.messagesOut += c.messagesOut;
      t.bytesIn += c.bytesIn;
      t.bytesOut += c.bytesOut;
      traffic.set(conn.location, t);
    }
    for (const location of open.keys()) this.totalsOf(location);
    const locations: LocationStats[] = [];
    for (const [location, totals] of this.closed) {
      const t = traffic.get(location);
      const last = this.reported.get(location);
      const now: Traffic = {
        messagesIn: totals.messagesIn + (t?.messagesIn ?? 0),
        messagesOut: Math.max(totals.messagesOut + (t?.messagesOut ?? 0), last?.messagesOut ?? 0),
        bytesIn: totals.bytesIn + (t?.bytesIn ?? 0),
        bytesOut: Math.max(totals.bytesOut + (t?.bytesOut ?? 0), last?.bytesOut ?? 0),
      };
      this.reported.set(location, now);
      locations.push({ location, open: open.get(location) ?? {}, ...totals, handlerErrors: { ...totals.handlerErrors }, ...now });
    }
    return { handshakes: { ...this.handshakes }, closeSent: { ...this.closeSent }, closeReceived: { ...this.closeReceived }, locations };
  }

  private totalsOf(location: string): Totals {
    let totals = this.closed.get(location);
    if (!totals) this.closed.set(location, (totals = zero()));
    return totals;
  }
}

/** Several processes' snapshots as one (the supervisor's view of its workers). */
export function mergeSnapshots(snapshots: readonly GatewayStatsSnapshot[]): GatewayStatsSnapshot {
  const sum = (into: Partial<Record<string, number>>, from: Partial<Record<string, number>>): void => {
    for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + (v ?? 0);
  };
  const merged: GatewayStatsSnapshot = { handshakes: {}, closeSent: {}, closeReceived: {}, locations: [] };
  const byLocation = new Map<string, LocationStats>();
  for (const s of snapshots) {
    sum(merged.handshakes, s.handshakes);
    sum(merged.closeSent, s.closeSent);
    sum(merged.closeReceived, s.closeReceived);
    for (const l of s.locations) {
      const into = byLocation.get(l.location);
      if (!into) {
        byLocation.set(l.location, { ...l, open: { ...l.open }, handlerErrors: { ...l.handlerErrors } });
        continue;
      }
      sum(into.open, l.open);
      sum(into.handlerErrors, l.handlerErrors);
      for (const key of ['messagesIn', 'messagesOut', 'bytesIn', 'bytesOut', 'sendQueueOverflows'] as const) into[key] += l[key];
    }
  }
  merged.locations = [...byLocation.values()];
  return merged;
}
