// ws's own Receiver as an independent parser of the frames our encoder writes (client side: it
// rejects masked frames, as a browser would).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
interface WsReceiver {
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): void;
  on(event: 'ping' | 'pong', listener: (data: Buffer) => void): void;
  on(event: 'conclude', listener: (code: number, reason: Buffer) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  write(chunk: Buffer): boolean;
  /** The Writable's worker: errors arrive synchronously through cb. */
  _write(chunk: Buffer, encoding: string, cb: (error?: Error | null) => void): void;
}
const Receiver = (require('ws') as { Receiver: unknown }).Receiver as new (options: { isServer: boolean; maxPayload: number }) => WsReceiver;

/** The close code ws attaches to a protocol error (under a symbol of its own). */
function statusOf(error: Error): number | undefined {
  for (const symbol of Object.getOwnPropertySymbols(error)) {
    const value = (error as unknown as Record<symbol, unknown>)[symbol];
    if (typeof value === 'number') return value;
  }
  return undefined;
}

/** What ws's server-side Receiver makes of client pieces: events (hex data) and its error, if any. */
export function decodeWithWs(pieces: Buffer[], maxPayload: number): { events: WsEvent[]; errorCode: number | undefined } {
  const events: WsEvent[] = [];
  let errorCode: number | undefined;
  let ended = false;
  const receiver = new Receiver({ isServer: true, maxPayload });
  receiver.on('message', (data, isBinary) => events.push(['message', Buffer.from(data).toString('hex'), isBinary]));
  receiver.on('ping', (data) => events.push(['ping', data.toString('hex')]));
  receiver.on('pong', (data) => events.push(['pong', data.toString('hex')]));
  receiver.on('conclude', (code, reason) => {
    ended = true;
    events.push(['close', code, reason.toString()]);
  });
  receiver.on('error', () => undefined);
  for (const piece of pieces) {
    if (ended || errorCode !== undefined) break;
    receiver._write(piece, 'buffer', (error) => {
      if (error) errorCode = statusOf(error) ?? -1;
    });
  }
  return { events, errorCode };
}

export type WsEvent = [string, ...unknown[]];

export function parseWithWs(chunks: Buffer[]): WsEvent[] {
  const events: WsEvent[] = [];
  const receiver = new Receiver({ isServer: false, maxPayload: 0 });
  receiver.on('message', (data, isBinary) => events.push(['message', Buffer.from(data).toString('hex'), isBinary]));
  receiver.on('ping', (data) => events.push(['ping', data.toString('hex')]));
  receiver.on('pong', (data) => events.push(['pong', data.toString('hex')]));
  receiver.on('conclude', (code, reason) => events.push(['close', code, reason.toString()]));
  receiver.on('error', (err) => events.push(['error', err.message]));
  for (const chunk of chunks) receiver.write(chunk);
  return events;
}
