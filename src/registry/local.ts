// The connections of this process: ids, Locations, groups, and the commands run on them. Every
// registry implementation keeps one (the supervisor's has no connections of its own) and answers
// the part of a command that is local from it.
import { hixieEncoder, hybiEncoder } from '../protocol/index.js';
import type { Connection, ConnectionFilter, MessageData } from '../plugins/types.js';
import { generateId } from './ids.js';
import { countOutcome, emptyOutcome } from './outcome.js';
import type { ConnectionRegistry, ConnectionSummary, Outcome, RegistryCommand } from './types.js';

/** A permessage-deflate frame made when the connection's output reaches it (server/compression.ts). */
export interface DeferredFrame {
  /** The uncompressed size, counted against the send queue limit meanwhile. */
  readonly bytes: number;
  make(): Promise<Buffer[]>;
}

/** One broadcast's deflated frames by window bits, shared by receivers that keep no context. */
export type SharedDeflates = Map<number, Promise<Buffer[]>>;

/** What the registry needs of a live connection (server/connection.ts implements it). */
export interface LiveConnection extends Connection {
  readonly isHixie: boolean;
  /** Writes an already-encoded frame (shared by every receiver of a broadcast). `queued`: append it
   *  to the connection's queue for the process's output scheduler instead of writing it now (what
   *  is sent to the connection meanwhile goes behind it). False: not sent (closed, queue full). */
  writeFrame(frame: Buffer[] | DeferredFrame, queued?: boolean): boolean;
  /** The compressed frame of a message for this connection (permessage-deflate), or undefined: the plain one. */
  frameFor?(payload: Buffer, isBinary: boolean, shared: SharedDeflates): DeferredFrame | undefined;
}

export function summarise(conn: Connection, member: string): ConnectionSummary {
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
    member,
  };
}

export class LocalRegistry<C extends LiveConnection = LiveConnection> {
  private readonly byId = new Map<string, C>();
  /** Ids of handshakes in progress, so two clients cannot race for one id. */
  private readonly reserved = new Set<string>();
  private readonly groups = new Map<string, Set<C>>();

  constructor(readonly member = '') {}

  /** Claims an id in this process: the requested one, or a fresh one. undefined = taken here. */
  reserve(requested: string | undefined): string | undefined {
    if (requested !== undefined) {
      if (this.has(requested)) return undefined;
      this.reserved.add(requested);
      return requested;
    }
    let id = generateId();
    while (this.has(id)) id = generateId();
    this.reserved.add(id);
    return id;
  }

  has(id: string): boolean {
    return this.byId.has(id) || this.reserved.has(id);
  }

  release(id: string): void {
    this.reserved.delete(id);
  }

  add(conn: C): void {
    this.reserved.delete(conn.id);
    this.byId.set(conn.id, conn);
    for (const group of conn.groups) this.addToGroup(conn, group);
  }

  remove(conn: C): void {
    if (this.byId.get(conn.id) === conn) this.byId.delete(conn.id);
    for (const group of conn.groups) this.removeFromGroup(conn, group);
  }

  addToGroup(conn: C, group: string): void {
    let members = this.groups.get(group);
    if (!members) this.groups.set(group, (members = new Set()));
    members.add(conn);
  }

  removeFromGroup(conn: C, group: string): void {
    const members = this.groups.get(group);
    if (!members) return;
    members.delete(conn);
    if (members.size === 0) this.groups.delete(group);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Every registered connection (open or closing). */
  all(): IterableIterator<C> {
    return this.byId.values();
  }

  get(id: string): C | undefined {
    return this.byId.get(id);
  }

  /** Open connections matching the filter. */
  *select(filter: ConnectionFilter | undefined): Iterable<C> {
    const source = filter?.group !== undefined ? (this.groups.get(filter.group) ?? []) : this.byId.values();
    const location = filter?.location;
    for (const conn of source) {
      if (conn.isOpen && (location === undefined || conn.location === location)) yield conn;
    }
  }

  /** Runs a command on this process's connections. A connection whose close handshake has
   *  started is gone for every command, as for LIST. */
  execute(command: RegistryCommand): Outcome {
    switch (command.op) {
      case 'list': {
        const out = emptyOutcome();
        for (const conn of this.select(command.filter)) out.connections.push(summarise(conn, this.member));
        out.count = out.connections.length;
        return out;
      }
      case 'info': {
        const conn = this.open(command.id);
        return conn ? { count: 1, connections: [summarise(conn, this.member)], unreachable: [] } : emptyOutcome();
      }
      case 'send':
        return countOutcome(this.open(command.id)?.send(command.data, command.isBinary) ? 1 : 0);
      case 'broadcast':
        return countOutcome(this.broadcast(command.data, command.isBinary, command.filter, command.except));
      case 'close': {
        const conn = this.open(command.id);
        conn?.close(command.code, command.reason);
        return countOutcome(conn ? 1 : 0);
      }
      case 'join':
      case 'leave': {
        const conn = this.open(command.id);
        if (conn) command.op === 'join' ? conn.join(command.group) : conn.leave(command.group);
        return countOutcome(conn ? 1 : 0);
      }
    }
  }

  private open(id: string): C | undefined {
    const conn = this.byId.get(id);
    return conn?.isOpen ? conn : undefined;
  }

  /** Encodes the message once per framing (RFC 6455 / hixie, and deflated once per window size
   *  where compression allows) and queues the same chunks for every recipient. The recipients and
   *  the count are decided here, at once; the socket writes, which are what costs (10,000 of them
   *  blocked the event loop for ~100 ms), happen in the output scheduler's slices of a few
   *  milliseconds per turn (server/output-scheduler.ts), each connection's order kept. */
  private broadcast(data: MessageData, isBinary: boolean, filter: ConnectionFilter, except: string | undefined): number {
    const payload = typeof data === 'string' ? Buffer.from(data) : data;
    let hybiFrame: Buffer[] | undefined;
    let hixieFrame: Buffer[] | undefined;
    const deflates: SharedDeflates = new Map();
    let count = 0;
    for (const conn of this.select(filter)) {
      if (conn.id === except) continue;
      const frame =
        conn.frameFor?.(payload, isBinary, deflates) ??
        (conn.isHixie ? (hixieFrame ??= hixieEncoder.message(payload, isBinary)) : (hybiFrame ??= hybiEncoder.message(payload, isBinary)));
      if (conn.writeFrame(frame, true)) count++;
    }
    return count;
  }
}

/** A registry of a process that holds connections, with its local part (in-process, IPC worker). */
export interface HostRegistry<C extends LiveConnection = LiveConnection> extends ConnectionRegistry {
  readonly local: LocalRegistry<C>;
}
