// An in-memory Gateway for unit tests of the control channel: records what it was asked to send.
import type { Connection, ConnectionFilter, Gateway, MessageData, BroadcastOptions } from '../../src/plugins/types.js';

export interface Sent {
  data: MessageData;
  isBinary: boolean;
}

export interface FakeConnection {
  id: string;
  location: string;
  groups: Set<string>;
  isOpen: boolean;
  sent: Sent[];
  closedWith: { code: number | undefined; reason: string | undefined } | undefined;
}

export class FakeGateway implements Gateway {
  readonly conns = new Map<string, FakeConnection>();

  add(id: string, location = '/echo', groups: string[] = []): FakeConnection {
    const conn: FakeConnection = { id, location, groups: new Set(groups), isOpen: true, sent: [], closedWith: undefined };
    this.conns.set(id, conn);
    return conn;
  }

  connections(filter: ConnectionFilter = {}): Connection[] {
    return [...this.conns.values()].filter((c) => matches(c, filter)).map(view);
  }

  get(id: string): Connection | undefined {
    const c = this.conns.get(id);
    return c ? view(c) : undefined;
  }

  send(id: string, data: MessageData, isBinary = false): boolean {
    const c = this.conns.get(id);
    if (!c?.isOpen) return false;
    c.sent.push({ data, isBinary });
    return true;
  }

  broadcast(data: MessageData, options: BroadcastOptions = {}): number {
    let n = 0;
    for (const c of this.conns.values()) {
      if (!c.isOpen || !matches(c, options) || c.id === options.except) continue;
      c.sent.push({ data, isBinary: options.isBinary ?? false });
      n++;
    }
    return n;
  }

  close(id: string, code?: number, reason?: string): boolean {
    const c = this.conns.get(id);
    if (!c?.isOpen) return false;
    c.isOpen = false;
    c.closedWith = { code, reason };
    return true;
  }

  join(id: string, group: string): boolean {
    const c = this.conns.get(id);
    if (!c?.isOpen) return false;
    c.groups.add(group);
    return true;
  }

  leave(id: string, group: string): boolean {
    const c = this.conns.get(id);
    if (!c?.isOpen) return false;
    c.groups.delete(group);
    return true;
  }
}

function matches(c: FakeConnection, filter: ConnectionFilter): boolean {
  return (filter.location === undefined || c.location === filter.location) && (filter.group === undefined || c.groups.has(filter.group));
}

function view(c: FakeConnection): Connection {
  const port = 40000 + c.id.length;
  return {
    id: c.id,
    path: c.location,
    query: new URLSearchParams(),
    headers: {},
    remoteAddress: c.id.startsWith('v6') ? '::1' : '127.0.0.1',
    remotePort: port,
    version: 13,
    location: c.location,
    protocols: [],
    protocol: '',
    origin: undefined,
    connectedAt: new Date('2026-01-02T03:04:05.000Z'),
    groups: c.groups,
    state: undefined,
    get log(): never {
      throw new Error('not in the fake');
    },
    isOpen: c.isOpen,
    send: () => false,
    ping: () => false,
    pong: () => false,
    close: () => undefined,
    join: () => undefined,
    leave: () => undefined,
  };
}
