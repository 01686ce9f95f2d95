// The supervisor's listening sockets: one net.Server per Listen address, accepting with
// pauseOnConnect so not a byte is read before a worker owns the socket.
import { createServer, type Server, type Socket, type AddressInfo } from 'node:net';
import type { ListenAddress } from '../config/model.js';
import { listenOn } from '../listen.js';
import type { ListenerRef } from './messages.js';

export type AcceptHandler = (socket: Socket, listener: ListenerRef) => void;

interface OpenListener {
  address: ListenAddress;
  server: Server;
  bound: AddressInfo;
}

/** `host:port` as written (IPv6 in brackets); the identity of a Listen line across reloads. */
export function listenKey(address: { host: string | undefined; port: number }): string {
  const host = address.host === undefined ? '*' : address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${host}:${address.port}`;
}

export function formatBound(bound: AddressInfo): string {
  return bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`;
}

export class ListenerSet {
  private readonly open = new Map<string, OpenListener>();

  constructor(private readonly onAccept: AcceptHandler) {}

  /** Every open listener, with the address it is bound to. */
  list(): { address: ListenAddress; bound: AddressInfo }[] {
    return [...this.open.values()].map(({ address, bound }) => ({ address, bound }));
  }

  /** Addresses in `wanted` that are not open yet. */
  missing(wanted: readonly ListenAddress[]): ListenAddress[] {
    return uniqueByKey(wanted).filter((a) => !this.open.has(listenKey(a)));
  }

  /** Binds each address; on the first failure closes the ones this call opened and throws.
   *  Returns the keys it opened (to undo with closeKeys). */
  async add(addresses: readonly ListenAddress[]): Promise<string[]> {
    const opened: string[] = [];
    try {
      for (const address of uniqueByKey(addresses)) {
        const key = listenKey(address);
        if (this.open.has(key)) continue;
        const server = createServer({ pauseOnConnect: true });
        const bound = await listenOn(server, address);
        const ref: ListenerRef = { host: address.host, port: bound.port, ...(address.protocol ? { protocol: address.protocol } : {}) };
        server.on('connection', (socket: Socket) => this.onAccept(socket, ref));
        // After listening, an accept error (EMFILE…) must not bring the supervisor down.
        server.on('error', () => {});
        this.open.set(key, { address, server, bound });
        opened.push(key);
      }
    } catch (err) {
      this.closeKeys(opened);
      throw err;
    }
    return opened;
  }

  /** Closes the listeners whose addresses are not in `wanted`. Accepted sockets are unaffected. */
  retain(wanted: readonly ListenAddress[]): void {
    const keep = new Set(wanted.map(listenKey));
    this.closeKeys([...this.open.keys()].filter((k) => !keep.has(k)));
  }

  closeKeys(keys: readonly string[]): void {
    for (const key of keys) {
      const entry = this.open.get(key);
      if (!entry) continue;
      this.open.delete(key);
      // Not waiting for close's callback: once sockets went to workers, it waits until every
      // worker closed all of them. Closing the handle (synchronous) is what stops accepting.
      entry.server.close();
    }
  }

  closeAll(): void {
    this.closeKeys([...this.open.keys()]);
  }
}

function uniqueByKey(addresses: readonly ListenAddress[]): ListenAddress[] {
  const seen = new Map<string, ListenAddress>();
  for (const a of addresses) if (!seen.has(listenKey(a))) seen.set(listenKey(a), a);
  return [...seen.values()];
}
