// Connections that record what the registry did to them: the registry's routing is tested here;
// real sockets are in test/server and the cluster tests.
import { pino } from 'pino';
import type { LiveConnection, LocalRegistry } from '../../src/registry/local.js';

export class RecordingConnection implements LiveConnection {
  readonly sent: Array<{ data: string; isBinary: boolean }> = [];
  readonly frames: Buffer[][] = [];
  closedWith: { code?: number; reason?: string } | undefined;
  readonly groups = new Set<string>();
  readonly query = new URLSearchParams();
  readonly headers = {};
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 40000;
  readonly version = 13 as const;
  readonly protocols: string[] = [];
  readonly protocol = '';
  readonly origin = undefined;
  readonly connectedAt = new Date('2026-12-04T00:00:00Z');
  readonly log = pino({ level: 'silent' });
  readonly isHixie = false;
  state: unknown;
  /** Set by addTo(): group changes go to the registry's index, as server/connection.ts does. */
  private registry: LocalRegistry<RecordingConnection> | undefined;

  constructor(
    readonly id: string,
    readonly location = '/chat',
    readonly path = location,
  ) {}

  get isOpen(): boolean {
    return this.closedWith === undefined;
  }

  send(data: Buffer | string, isBinary = typeof data !== 'string'): boolean {
    if (!this.isOpen) return false;
    this.sent.push({ data: data.toString(), isBinary });
    return true;
  }

  writeFrame(frame: Buffer[]): boolean {
    if (!this.isOpen) return false;
    this.frames.push(frame);
    return true;
  }

  ping(): boolean {
    return this.isOpen;
  }

  pong(): boolean {
    return this.isOpen;
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
  }

  join(group: string): void {
    this.groups.add(group);
    this.registry?.addToGroup(this, group);
  }

  leave(group: string): void {
    this.groups.delete(group);
    this.registry?.removeFromGroup(this, group);
  }

  /** Registers the connection under its claimed id. */
  addTo(registry: LocalRegistry<RecordingConnection>): this {
    this.registry = registry;
    registry.add(this);
    return this;
  }
}
