// Plain TCP sockets read into one buffer the gateway shares, instead of a new buffer per read.
//
// By default Node reads a socket into a fresh 64 KiB buffer (malloc'd, then an ArrayBuffer that V8
// accounts for) and passes it through the stream machinery as 'data'; and libuv reads again while
// reads fill that buffer, so a peer with just over 64 KiB in flight costs two reads. Node's `onread`
// option makes a socket read into a buffer of the caller's and call back with the byte count,
// bypassing the stream, but only a socket Node constructs from options gets it, never an accepted
// one. It is switched on here as that constructor does: the handle's useUserBuffer() and the
// socket's kBuffer/kBufferCb fields, whose symbols are found by their descriptions. When any of it
// is missing (another Node version, a TLS socket), the socket keeps reading as before.
//
// Reads run one at a time on the event loop, so one buffer serves every socket, and an idle
// connection costs nothing more. A read's bytes are lent to the receiver for the call; it keeps
// them in a buffer of their size (handlers keep their messages), into which the WebSocket decoder
// unmasks the payloads as it goes, so the bytes are not copied first. That buffer is new memory
// per read unless the receiver knows that nothing refers to the previous read's any more (its
// handler keeps no message, its replies left): then the gateway's spare serves again (lendInto),
// which spares a new ArrayBuffer per read (64 KiB per read at 16 KiB 4 × 4), the cold memory
// the payloads were unmasked into, and the young collections V8 runs for every 32 MB of them.
import type { Socket } from 'node:net';
import { isTlsSocket } from './tls.js';

/** A read takes up to this much by default: the whole window of a peer with 16 × 16 KiB in flight. */
export const SHARED_READ_SIZE = 256 * 1024;
/** The smallest spare a read is kept in (SharedReads.lendInto). */
const MIN_SPARE_SIZE = 16 * 1024;
/** Node's own read size: 'data' chunks are at most this long. */
export const NODE_READ_SIZE = 64 * 1024;

/** Receives each read, `this` being the socket: its bytes, lent for the call (the next read reuses them). */
export type ReadReceiver<S extends Socket> = (this: S, read: Buffer) => void;

interface NodeReadFields {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}

const kReceiver = Symbol('wsgate.readReceiver');
type SharedReadSocket = Socket & Record<symbol, unknown> & { [kReceiver]: ReadReceiver<Socket> };

/** Found on the first socket; null when this Node lacks them. */
let fields: NodeReadFields | null | undefined;

function findFields(socket: Socket): NodeReadFields | null {
  const symbols = Object.getOwnPropertySymbols(socket);
  const named = (description: string): symbol | undefined => symbols.find((s) => s.description === description);
  const buffer = named('kBuffer');
  const callback = named('kBufferCb');
  const generator = named('kBufferGen');
  return buffer && callback && generator ? { buffer, callback, generator } : null;
}

/** Node's callback for a read into the shared buffer (`this`: the socket; Node passes the buffer). */
function onSharedRead(this: SharedReadSocket, nread: number, buffer: Buffer): void {
  this[kReceiver](buffer.subarray(0, nread));
}

/** The read buffer of one gateway's sockets. */
export class SharedReads {
  /** Allocated for the first socket that reads into it. */
  buffer: Buffer | undefined;
  /** Where reads are kept for receivers that give them back (lendInto), one per size: powers of
   *  two from MIN_SPARE_SIZE up to a read's. A spare is replaced when a receiver could not give
   *  it back (settleInto(false)): the old one stays with what refers to it, at most twice the
   *  read's size (or MIN_SPARE_SIZE; Node's own reads of a few KiB share 8 KiB blocks). */
  private readonly spares = new Map<number, Buffer>();
  /** The size of the spare lendInto handed out last. */
  private lentSize = 0;

  constructor(
    /** The most one read takes. */
    readonly size = SHARED_READ_SIZE,
  ) {}

  /** A buffer of `length` bytes to keep a read in, which settleInto must follow once the read was
   *  handled: the spare, when the last receiver gave it back. */
  lendInto(length: number): Buffer {
    // The next power of two (a read is at most a few hundred KiB, well inside a 31-bit shift).
    const size = Math.min(this.size, Math.max(MIN_SPARE_SIZE, 1 << (32 - Math.clz32(length - 1))));
    let spare = this.spares.get(size);
    if (spare === undefined) {
      spare = Buffer.allocUnsafeSlow(size);
      this.spares.set(size, spare);
    }
    this.lentSize = size;
    return spare.subarray(0, length);
  }

  /** The read kept in lendInto's buffer was handled: `free` when nothing refers to its bytes any
   *  more, and the next read may overwrite them. */
  settleInto(free: boolean): void {
    if (!free) this.spares.delete(this.lentSize);
  }

  /** Switches `socket` to reads into the shared buffer, delivered to `receive`. Returns what the
   *  socket had read and buffered before (the receiver takes it first; reading stays paused until
   *  the caller resumes), or undefined when the switch is not available: the socket reads as before. */
  attach<S extends Socket>(socket: S, receive: ReadReceiver<S>): Buffer | undefined {
    if (isTlsSocket(socket) || socket.destroyed) return undefined;
    const handle = (socket as { _handle?: { useUserBuffer?: unknown } | null })._handle;
    if (typeof handle?.useUserBuffer !== 'function') return undefined;
    fields ??= findFields(socket);
    if (fields === null) return undefined;
    const target = socket as unknown as SharedReadSocket;
    // Null from the constructor: anything else means this socket is not the kind this code knows.
    if (target[fields.buffer] !== null || target[fields.callback] !== null || target[fields.generator] !== null) return undefined;
    // What the stream took before the switch (the socket was paused, but its handle reads on until
    // the stream's buffer is full). Taken first: read() may start the handle again.
    const buffered = socket.readableLength > 0 ? ((socket.read() as Buffer | null) ?? EMPTY) : EMPTY;
    const buffer = (this.buffer ??= Buffer.allocUnsafe(this.size));
    target[kReceiver] = receive as ReadReceiver<Socket>;
    target[fields.buffer] = buffer;
    target[fields.callback] = onSharedRead;
    (handle.useUserBuffer as (buffer: Buffer) => void).call(handle, buffer);
    // In this mode pause() stops the handle itself.
    socket.pause();
    return buffered;
  }
}

const EMPTY = Buffer.alloc(0);
