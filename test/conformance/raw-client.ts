// A raw WebSocket client for conformance cases: hand-written handshake, our own frame builder,
// every server frame recorded. Behaves like Autobahn's fuzzing client: answers pings with pongs and
// echoes the server's close frame, then waits for the server to close TCP (RFC 6455 §7.1.1).
import type net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildFrame, closePayload, OP, type FrameSpec } from './frame-builder.js';
import { FrameReader, type ServerFrame } from './frame-reader.js';
import { handshake, header, requestBytes, type HttpHead } from './http-wire.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export type ServerEvent =
  | { kind: 'message'; opcode: number; data: Buffer }
  | { kind: 'ping'; data: Buffer }
  | { kind: 'pong'; data: Buffer }
  /** code undefined: empty close payload. */
  | { kind: 'close'; code: number | undefined; reason: Buffer; payload: Buffer }
  /** The server broke the protocol (masked frame, RSV, bad fragmentation, bad opcode). */
  | { kind: 'violation'; detail: string };

export interface OpenOptions {
  port: number;
  path?: string;
  /** Sec-WebSocket-Version; default 13. */
  version?: 13 | 8 | 7;
  /** Extra request headers. */
  headers?: [string, string][];
}

export class HandshakeRefused extends Error {
  constructor(readonly head: HttpHead) {
    super(`handshake refused: ${head.status} ${head.statusText}`);
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function isUtf8(bytes: Buffer): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Codes an endpoint may put on the wire (RFC 6455 §7.4); 1004 only on hybi-07/08 ("frame too large"). */
function mayBeSent(code: number, version: number): boolean {
  if (code === 1004) return version !== 13;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

export function acceptFor(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

export class RawClient {
  readonly events: ServerEvent[] = [];
  tcpClosed = false;
  /** True once we sent a close frame (ours or the echo of the server's). */
  closeSent = false;
  /** Whether we answer the server's close frame with one of ours (Autobahn does). */
  replyToClose = true;
  private readonly reader: FrameReader;
  private readonly messageList: { opcode: number; data: Buffer }[] = [];
  private readonly pongList: Buffer[] = [];
  private fragments: { opcode: number; parts: Buffer[] } | undefined;
  private waiters = new Set<() => void>();

  constructor(
    readonly socket: net.Socket,
    readonly head: HttpHead,
    leftover: Buffer,
    /** The Sec-WebSocket-Version in use: which close codes the server may send. */
    readonly version: 13 | 8 | 7 = 13,
  ) {
    this.reader = new FrameReader((frame) => this.onFrame(frame));
    socket.setNoDelay(true);
    // Bytes that came with the 101 answer go first; the socket was paused after the head.
    if (leftover.length > 0) this.reader.push(leftover);
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk));
    socket.on('error', () => undefined); // a reset is an outcome, recorded by 'close'
    socket.on('close', () => {
      this.tcpClosed = true;
      this.notify();
    });
    socket.resume();
  }

  // ---- sending -------------------------------------------------------------------------------
  send(bytes: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  sendFrame(spec: FrameSpec): void {
    if (spec.opcode === OP.close) this.closeSent = true;
    this.send(buildFrame(spec));
  }

  /** All frames in one write: the server may well read them in one chunk. */
  sendFrames(specs: FrameSpec[]): void {
    if (specs.some((s) => s.opcode === OP.close)) this.closeSent = true;
    this.send(Buffer.concat(specs.map(buildFrame)));
  }

  /** The bytes in separate writes of `size` bytes, pausing `pauseMs` (0 = next macrotask) between them. */
  async sendChunked(bytes: Buffer, size: number, pauseMs = 0): Promise<void> {
    for (let at = 0; at < bytes.length && !this.tcpClosed; at += size) {
      this.send(bytes.subarray(at, at + size));
      await sleep(pauseMs);
    }
  }

  /** Frames in separate writes with a pause between them (Autobahn's "frame-wise" sending). */
  async sendFramewise(specs: FrameSpec[], pauseMs = 5): Promise<void> {
    for (const spec of specs) {
      if (this.tcpClosed) return;
      this.sendFrame(spec);
      await sleep(pauseMs);
    }
  }

  sendClose(code?: number, reason: Buffer | string = ''): void {
    this.sendFrame({ opcode: OP.close, payload: closePayload(code, reason) });
  }

  // ---- observing -----------------------------------------------------------------------------
  /** Complete messages so far (kept apart from `events` so waiting on thousands stays linear). */
  messages(): readonly { opcode: number; data: Buffer }[] {
    return this.messageList;
  }

  pongs(): readonly Buffer[] {
    return this.pongList;
  }

  closeFrame(): Extract<ServerEvent, { kind: 'close' }> | undefined {
    return this.events.find((e): e is Extract<ServerEvent, { kind: 'close' }> => e.kind === 'close');
  }

  violations(): string[] {
    const found = this.events.flatMap((e) => (e.kind === 'violation' ? [e.detail] : []));
    return this.reader.violation === undefined ? found : [...found, this.reader.violation];
  }

  /** Resolves true once `condition` holds, false when `timeoutMs` passes first. */
  waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve(condition());
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  waitForTcpClose(timeoutMs: number): Promise<boolean> {
    return this.waitUntil(() => this.tcpClosed, timeoutMs);
  }

  /** A one-line account of what the server did, for assertion messages. */
  describe(): string {
    const parts = this.events.map((e) => {
      switch (e.kind) {
        case 'message':
          return `${e.opcode === OP.text ? 'text' : 'binary'}(${e.data.length}B)`;
        case 'ping':
        case 'pong':
          return `${e.kind}(${e.data.length}B)`;
        case 'close':
          return `close(${e.code ?? 'empty'}${e.reason.length > 0 ? ` "${e.reason.toString('utf8')}"` : ''})`;
        case 'violation':
          return `VIOLATION(${e.detail})`;
      }
    });
    if (this.reader.violation !== undefined) parts.push(`VIOLATION(${this.reader.violation})`);
    parts.push(this.tcpClosed ? 'tcp-closed' : 'tcp-open');
    return parts.join(' ');
  }

  destroy(): void {
    this.socket.destroy();
  }

  // ---- receiving -----------------------------------------------------------------------------
  private onFrame(frame: ServerFrame): void {
    if (this.closeFrame() !== undefined) this.record({ kind: 'violation', detail: `frame opcode ${frame.opcode} after close` });
    switch (frame.opcode) {
      case OP.text:
      case OP.binary:
      case OP.continuation:
        this.onDataFrame(frame);
        break;
      case OP.ping:
        this.record({ kind: 'ping', data: frame.payload });
        if (!this.closeSent) this.sendFrame({ opcode: OP.pong, payload: frame.payload });
        break;
      case OP.pong:
        this.record({ kind: 'pong', data: frame.payload });
        break;
      case OP.close:
        this.onClose(frame.payload);
        break;
      default:
        this.record({ kind: 'violation', detail: `reserved opcode ${frame.opcode}` });
    }
    if ((frame.opcode & 0x8) !== 0 && (!frame.fin || frame.payload.length > 125)) {
      this.record({ kind: 'violation', detail: `bad control frame opcode ${frame.opcode}` });
    }
  }

  private onDataFrame(frame: ServerFrame): void {
    if (frame.opcode === OP.continuation && this.fragments === undefined) {
      this.record({ kind: 'violation', detail: 'continuation without a started message' });
      return;
    }
    if (frame.opcode !== OP.continuation && this.fragments !== undefined) {
      this.record({ kind: 'violation', detail: 'new data frame inside a fragmented message' });
      return;
    }
    const current = this.fragments ?? { opcode: frame.opcode, parts: [] };
    current.parts.push(frame.payload);
    this.fragments = frame.fin ? undefined : current;
    if (!frame.fin) return;
    const data = Buffer.concat(current.parts);
    if (current.opcode === OP.text && !isUtf8(data)) this.record({ kind: 'violation', detail: 'server text message is not UTF-8' });
    this.record({ kind: 'message', opcode: current.opcode, data });
  }

  private onClose(payload: Buffer): void {
    const code = payload.length >= 2 ? payload.readUInt16BE(0) : undefined;
    this.record({ kind: 'close', code, reason: payload.subarray(2), payload });
    if (payload.length === 1) this.record({ kind: 'violation', detail: 'server close frame with a 1-byte payload' });
    if (code !== undefined && !mayBeSent(code, this.version)) this.record({ kind: 'violation', detail: `server sent close code ${code}` });
    if (!isUtf8(payload.subarray(2))) this.record({ kind: 'violation', detail: 'server close reason is not UTF-8' });
    if (this.replyToClose && !this.closeSent) this.sendClose(code);
  }

  private record(event: ServerEvent): void {
    this.events.push(event);
    if (event.kind === 'message') this.messageList.push({ opcode: event.opcode, data: event.data });
    else if (event.kind === 'pong') this.pongList.push(event.data);
    this.notify();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Connects and performs an RFC 6455 (or hybi 7/8) handshake; rejects with HandshakeRefused on a non-101. */
export async function openWebSocket(options: OpenOptions): Promise<RawClient> {
  const key = randomBytes(16).toString('base64');
  const version = options.version ?? 13;
  const origin: [string, string] = version === 13 ? ['Origin', 'http://127.0.0.1'] : ['Sec-WebSocket-Origin', 'http://127.0.0.1'];
  const defaults: [string, string][] = [
    ['Host', `127.0.0.1:${options.port}`],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', key],
    ['Sec-WebSocket-Version', String(version)],
    origin,
  ];
  // A header given in options replaces the default of the same name (a repeated Origin would be joined).
  const given = new Set((options.headers ?? []).map(([name]) => name.toLowerCase()));
  const request = requestBytes(options.path ?? '/echo', [...defaults.filter(([name]) => !given.has(name.toLowerCase())), ...(options.headers ?? [])]);
  const { socket, head, leftover } = await handshake(options.port, request);
  if (head.status !== 101) {
    socket.destroy();
    throw new HandshakeRefused(head);
  }
  const accept = header(head, 'sec-websocket-accept');
  if (accept !== acceptFor(key)) {
    socket.destroy();
    throw new Error(`wrong Sec-WebSocket-Accept: got ${accept}, expected ${acceptFor(key)}`);
  }
  return new RawClient(socket, head, leftover, version);
}
