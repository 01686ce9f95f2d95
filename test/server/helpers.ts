// Test clients: `ws` for the happy paths, a raw `net` socket for the exact bytes.
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import type { RunningGateway } from '../../src/server/gateway.js';

export function wsUrl(gw: RunningGateway, path: string): string {
  return `ws://127.0.0.1:${gw.addresses[0]!.port}${path}`;
}

export function openWs(url: string, protocols?: string | string[], options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

/** The HTTP status a handshake is refused with (ws's unexpected-response), or 101. */
export function handshakeStatus(url: string, protocols?: string | string[], options: WebSocket.ClientOptions = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    ws.once('open', () => {
      resolve({ status: 101, headers: {}, body: '' });
      ws.terminate();
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, unknown>, body }));
    });
    ws.once('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

export function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data: data as Buffer, isBinary })));
}

export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve({ code: 1006, reason: '' });
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

/** A raw TCP client that collects everything the server sends. */
export class RawClient {
  readonly socket: Socket;
  received = Buffer.alloc(0);
  ended = false;
  private waiters: Array<() => void> = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.received = Buffer.concat([this.received, d]);
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Wait until `predicate(received)` holds or the socket closes (bounded by timeoutMs). */
  async until(predicate: (received: Buffer) => boolean, timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received) && !this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; received so far: ${JSON.stringify(this.received.toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.received;
  }

  async head(): Promise<string> {
    const buf = await this.until((b) => b.includes('\r\n\r\n'));
    const end = buf.indexOf('\r\n\r\n');
    return buf.subarray(0, end < 0 ? buf.length : end).toString('latin1');
  }

  async untilClosed(timeoutMs = 5000): Promise<void> {
    await this.until(() => false, timeoutMs).catch((err: Error) => {
      if (!this.ended) throw err;
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A masked client frame (RFC 6455 §5.2), for raw tests. */
export function clientFrame(opcode: number, payload: Buffer | string, fin = true): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const mask = Buffer.from([0x11, 0x22, 0x33, 0x44]);
  let header: Buffer;
  if (data.length < 126) {
    header = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | data.length]);
  } else if (data.length < 65536) {
    header = Buffer.alloc(4);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(data.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(data.length), 2);
  }
  const masked = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) masked[i] = data[i]! ^ mask[i & 3]!;
  return Buffer.concat([header, mask, masked]);
}

export function hybiRequest(path: string, extra: Record<string, string> = {}, version = '13'): string {
  const headers: Record<string, string> = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version': version,
    ...extra,
  };
  return `GET ${path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
}

/** The 99th percentile of some latencies (a canary's, see canary.ts). */
export function p99(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
}
