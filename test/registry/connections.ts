// Connections that record what the registry did to them: the registry's routing is tested with
// them here and in the control channel's unit tests; real sockets are in test/server and test/cluster.
import { pino } from 'pino';
import type { LiveConnection, LocalRegistry } from '../../src/registry/local.js';

export interface Sent {
  /** A string for text, a Buffer for binary. */
  data: Buffer | string;
  isBinary: boolean;
}

export interface RecordingOptions {
  location?: string;
  remoteAddress?: string;
  remotePort?: number;
}

/** The payload of one unmasked RFC 6455 server frame (as hybi-encoder writes it). */
function decodeServerFrame(chunks: Buffer[]): Sent {
  const frame = Buffer.concat(chunks);
  const len7 = frame[1]! & 0x7f;
  const offset = len7 === 126 ? 4 : len7 === 127 ? 10 : 2;
  const payload = frame.subarray(offset);
  const isBinary = (frame[0]! & 0x0f) === 2;
  return { data: isBinary ? payload : payload.toString('utf8'), isBinary };
}

export class RecordingConnection implements LiveConnection {
  /** Messages in the order they were queued, by send() or as broadcast frames. */
  readonly sent: Sent[] = [];
  closedWith: { code: number | undefined; reason: string | undefined } | undefined;
  isOpen = true;
  readonly groups = new Set<string>();
  readonly query = new URLSearchParams();
  readonly headers = {};
  readonly location: string;
  readonly path: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly version = 13 as const;
  readonly protocols: string[] = [];
  readonly protocol = '';
  readonly origin = undefined;
  readonly connectedAt = new Date('2026-01-02T03:04:05.000Z');
  readonly log = pino({ level: 'silent' });
  readonly isHixie = false;
  state: unknown;
  /** Set by addTo(): group changes go to the registry's index, as server/connection.ts does. */
  private registry: LocalRegistry<RecordingConnection> | undefined;

  constructor(
    readonly id: string,
    options: RecordingOptions = {},
  ) {
    this.location = options.location ?? '/chat';
    this.path = this.location;
    this.remoteAddress = options.remoteAddress ?? '127.0.0.1';
    this.remotePort = options.remotePort ?? 40000;
  }

  send(data: Buffer | string, isBinary = typeof data !== 'string'): boolean {
    if (!this.isOpen) return false;
    this.sent.push({ data, isBinary });
    return true;
  }

  writeFrame(frame: Buffer[]): boolean {
    if (!this.isOpen) return false;
    this.sent.push(decodeServerFrame(frame));
    return true;
  }

  ping(): boolean {
    return this.isOpen;
  }

  pong(): boolean {
    return this.isOpen;
  }

  close(code?: number, reason?: string): void {
    this.isOpen = false;
    this.closedWith = { code, reason };
  }
  pause(): void {}
  resume(): void {}

  join(group: string): void {
    this.groups.add(group);
    this.registry?.addToGroup(this, group);
  }

  leave(group: string): void {
    this.groups.delete(group);
    this.registry?.removeFromGroup(this, group);
  }

  /** Registers the connection under its id, with the groups it has now. */
  addTo(registry: LocalRegistry<RecordingConnection>): this {
    this.registry = registry;
    registry.add(this);
    return this;
  }
}
