// A stand-in for the gateway's connection: records what the native adapter does with it.
import type { IncomingHttpHeaders } from 'node:http';
import { pino } from 'pino';
import type { PendingConnection } from '../../src/plugins/types.js';

export type Call =
  | { kind: 'send'; data: Buffer; isBinary: boolean }
  | { kind: 'ping' | 'pong'; data: Buffer }
  | { kind: 'close'; code: number | undefined; reason: string | undefined };

export class FakeConnection {
  readonly calls: Call[] = [];
  readonly responseHeaders = new Map<string, string>();
  protocol = '';
  state: unknown = undefined;
  open = true;
  readonly log = pino({ level: 'silent' });
  readonly path = '/fake';
  readonly query = new URLSearchParams();
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 1;
  readonly connectedAt = new Date();

  constructor(
    readonly headers: IncomingHttpHeaders = { host: '127.0.0.1:1' },
    readonly protocols: readonly string[] = [],
  ) {}

  /** What the plugin sent as text, in order. */
  texts(): string[] {
    return this.calls.flatMap((c) => (c.kind === 'send' && !c.isBinary ? [c.data.toString()] : []));
  }

  send(data: Buffer | string, isBinary?: boolean): boolean {
    if (!this.open) return false;
    // Kept as given (not copied): tests check which memory a payload is a view of.
    this.calls.push({ kind: 'send', data: typeof data === 'string' ? Buffer.from(data) : data, isBinary: isBinary ?? typeof data !== 'string' });
    return true;
  }
  ping(data?: Buffer | string): boolean {
    this.calls.push({ kind: 'ping', data: Buffer.from(data ?? '') });
    return this.open;
  }
  pong(data?: Buffer | string): boolean {
    this.calls.push({ kind: 'pong', data: Buffer.from(data ?? '') });
    return this.open;
  }
  close(code?: number, reason?: string): void {
    this.calls.push({ kind: 'close', code, reason });
    this.open = false;
  }
  setHeader(name: string, value: string): void {
    this.responseHeaders.set(name, value);
  }
  selectProtocol(protocol: string): void {
    this.protocol = protocol;
  }

  asPending(): PendingConnection {
    return this as unknown as PendingConnection;
  }
}

/** A FakeConnection whose send() takes `ms` of CPU (busy), as a costly socket write would. */
export class SlowFakeConnection extends FakeConnection {
  constructor(private readonly ms: number) {
    super();
  }

  override send(data: Buffer | string, isBinary?: boolean): boolean {
    const end = performance.now() + this.ms;
    while (performance.now() < end);
    return super.send(data, isBinary);
  }
}
