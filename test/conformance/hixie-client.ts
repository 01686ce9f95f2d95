// A minimal hixie-75/76 client (the drafts mod_websocket also served): handshake and 0x00…0xFF
// text frames. Written from the drafts, independent of the project's hixie codec.
import { createHash, randomInt } from 'node:crypto';
import type net from 'node:net';
import { handshake, requestBytes, type HttpHead } from './http-wire.js';

export interface Hixie76Keys {
  key1: string;
  key2: string;
  key3: Buffer;
}

/** The 16-byte answer: MD5 of the two key numbers (digits ÷ spaces, big-endian 32-bit) and key3. */
export function hixie76Answer({ key1, key2, key3 }: Hixie76Keys): Buffer {
  const number = (key: string): Buffer => {
    const digits = Number(key.replace(/\D/g, ''));
    const spaces = key.split(' ').length - 1;
    const out = Buffer.alloc(4);
    out.writeUInt32BE(digits / spaces, 0);
    return out;
  };
  return createHash('md5').update(Buffer.concat([number(key1), number(key2), key3])).digest();
}

/** A random draft-76 key: a number times its count of spaces, with noise characters and the spaces inserted. */
export function randomHixieKey(): string {
  const spaces = randomInt(1, 13);
  const value = randomInt(0, Math.floor(0xffffffff / spaces)) * spaces;
  const chars = [...String(value)];
  const noise = '!"#$%&\'()*+,-./:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~';
  for (let i = randomInt(1, 13); i > 0; i--) chars.splice(randomInt(0, chars.length + 1), 0, noise[randomInt(0, noise.length)]!);
  for (let i = 0; i < spaces; i++) chars.splice(randomInt(1, chars.length), 0, ' ');
  return chars.join('');
}

export function hixieRequest(port: number, path: string, keys: Hixie76Keys | undefined): Buffer {
  const headers: [string, string][] = [
    ['Host', `127.0.0.1:${port}`],
    ['Connection', 'Upgrade'],
    ['Upgrade', 'WebSocket'],
    ['Origin', 'http://127.0.0.1'],
  ];
  if (keys === undefined) return requestBytes(path, headers);
  return requestBytes(path, [...headers, ['Sec-WebSocket-Key1', keys.key1], ['Sec-WebSocket-Key2', keys.key2]], keys.key3);
}

export class HixieClient {
  private received: Buffer = Buffer.alloc(0);
  tcpClosed = false;

  constructor(readonly socket: net.Socket, readonly head: HttpHead, leftover: Buffer) {
    this.received = leftover;
    socket.on('data', (chunk: Buffer) => (this.received = Buffer.concat([this.received, chunk])));
    socket.on('error', () => undefined);
    socket.on('close', () => (this.tcpClosed = true));
    socket.resume();
  }

  /** Bytes after the response head (the 16-byte draft-76 answer comes first). */
  get bytes(): Buffer {
    return this.received;
  }

  sendText(message: string): void {
    this.socket.write(Buffer.concat([Buffer.from([0x00]), Buffer.from(message, 'utf8'), Buffer.from([0xff])]));
  }

  /** Text frames in `bytes` after `skip` bytes. */
  texts(skip: number): string[] {
    const out: string[] = [];
    let at = skip;
    while (at < this.received.length && this.received[at] === 0x00) {
      const end = this.received.indexOf(0xff, at + 1);
      if (end < 0) break;
      out.push(this.received.subarray(at + 1, end).toString('utf8'));
      at = end + 1;
    }
    return out;
  }

  async waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (!condition() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 5));
    return condition();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export async function openHixie(port: number, path: string, keys: Hixie76Keys | undefined): Promise<HixieClient> {
  const { socket, head, leftover } = await handshake(port, hixieRequest(port, path, keys));
  return new HixieClient(socket, head, leftover);
}
