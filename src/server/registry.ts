// The registry of live connections (JS and native handlers alike): ids, Locations, groups,
// and broadcast. This is the `Gateway` handlers and the control channel see.
import { hixieEncoder, hybiEncoder } from '../protocol/index.js';
import type { BroadcastOptions, Connection, ConnectionFilter, Gateway, MessageData } from '../plugins/types.js';
import type { WsConnection } from './connection.js';
import { generateId } from './ids.js';

export class Registry implements Gateway {
  private readonly byId = new Map<string, WsConnection>();
  /** Ids of handshakes in progress, so two clients cannot race for one id. */
  private readonly reserved = new Set<string>();
  private readonly groups = new Map<string, Set<WsConnection>>();

  /** Claim an id for a handshake: the requested one, or a fresh one. undefined = the requested id is live (409). */
  reserve(requested: string | undefined): string | undefined {
    if (requested !== undefined) {
      if (this.byId.has(requested) || this.reserved.has(requested)) return undefined;
      this.reserved.add(requested);
      return requested;
    }
    let id = generateId();
    while (this.byId.has(id) || this.reserved.has(id)) id = generateId();
    this.reserved.add(id);
    return id;
  }

  release(id: string): void {
    this.reserved.delete(id);
  }

  add(conn: WsConnection): void {
    this.reserved.delete(conn.id);
    this.byId.set(conn.id, conn);
    for (const group of conn.groups) this.addToGroup(conn, group);
  }

  remove(conn: WsConnection): void {
    if (this.byId.get(conn.id) === conn) this.byId.delete(conn.id);
    for (const group of conn.groups) this.removeFromGroup(conn, group);
  }

  addToGroup(conn: WsConnection, group: string): void {
    let members = this.groups.get(group);
    if (!members) this.groups.set(group, (members = new Set()));
    members.add(conn);
  }

  removeFromGroup(conn: WsConnection, group: string): void {
    const members = this.groups.get(group);
    if (!members) return;
    members.delete(conn);
    if (members.size === 0) this.groups.delete(group);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Every registered connection (open or closing). */
  all(): IterableIterator<WsConnection> {
    return this.byId.values();
  }

  private *select(filter: ConnectionFilter | undefined): Iterable<WsConnection> {
    const source = filter?.group !== undefined ? (this.groups.get(filter.group) ?? []) : this.byId.values();
    const location = filter?.location;
    for (const conn of source) {
      if (location === undefined || conn.location === location) yield conn;
    }
  }

  // ---- Gateway ----

  connections(filter?: ConnectionFilter): Connection[] {
    return [...this.select(filter)];
  }

  get(id: string): Connection | undefined {
    return this.byId.get(id);
  }

  send(id: string, data: MessageData, isBinary?: boolean): boolean {
    return this.byId.get(id)?.send(data, isBinary) ?? false;
  }

  /** Encodes the message once per framing (RFC 6455 / hixie) and writes the same chunks to every socket. */
  broadcast(data: MessageData, options: BroadcastOptions = {}): number {
    const payload = typeof data === 'string' ? Buffer.from(data) : data;
    const isBinary = options.isBinary ?? typeof data !== 'string';
    let hybiFrame: Buffer[] | undefined;
    let hixieFrame: Buffer[] | undefined;
    let count = 0;
    for (const conn of this.select(options)) {
      if (!conn.isOpen || conn.id === options.except) continue;
      const frame = conn.isHixie
        ? (hixieFrame ??= hixieEncoder.message(payload, isBinary))
        : (hybiFrame ??= hybiEncoder.message(payload, isBinary));
      if (conn.writeFrame(frame)) count++;
    }
    return count;
  }

  close(id: string, code?: number, reason?: string): boolean {
    const conn = this.byId.get(id);
    if (!conn?.isOpen) return false;
    conn.close(code, reason);
    return true;
  }

  join(id: string, group: string): boolean {
    const conn = this.byId.get(id);
    if (!conn) return false;
    conn.join(group);
    return true;
  }

  leave(id: string, group: string): boolean {
    const conn = this.byId.get(id);
    if (!conn) return false;
    conn.leave(group);
    return true;
  }
}
