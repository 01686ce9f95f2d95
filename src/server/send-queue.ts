// A connection's outgoing frames that the socket is not holding yet, bounded by what they cost in
// memory rather than by their bytes alone. Node's socket keeps every write() as an entry of its
// own (a request object, a callback slot, the Buffer objects: over 100 bytes each beyond the
// payload), so a million 1-byte messages to a client that never reads cost far more than 1 MB.
// Frames are handed to the socket only while it is below its high-water mark; the rest wait here,
// each counted at its bytes plus MESSAGE_OVERHEAD, and go out joined into large writes when the
// socket drains. On overflow whatever waits here is dropped whole (no frame is ever cut), so the
// close frame goes out right behind what the socket already holds.

/** What one waiting frame costs beyond its bytes: its Buffer objects and its slot here. */
export const MESSAGE_OVERHEAD = 128;
/** Waiting frames are joined into socket writes of up to this many bytes when the socket drains. */
const JOINED_WRITE_BYTES = 64 * 1024;

/** The socket side the queue writes to (a net.Socket). */
export interface QueueSocket {
  readonly writableNeedDrain: boolean;
  write(chunk: Buffer): boolean;
  cork(): void;
  uncork(): void;
}

export class SendQueue {
  private frames: Buffer[][] = [];
  private head = 0;
  /** Payload and header bytes waiting. */
  bytes = 0;

  get length(): number {
    return this.frames.length - this.head;
  }

  /** Bytes plus per-frame overhead: what counts against WebSocketSendQueueLimit. */
  get cost(): number {
    return this.bytes + this.length * MESSAGE_OVERHEAD;
  }

  push(frame: Buffer[]): void {
    this.frames.push(frame);
    for (const chunk of frame) this.bytes += chunk.length;
  }

  /** Writes waiting frames, small ones joined, until the socket is full again or nothing waits. */
  flushTo(socket: QueueSocket): void {
    const frames = this.frames;
    while (this.head < frames.length && !socket.writableNeedDrain) {
      const first = frames[this.head]!;
      const firstBytes = frameBytes(first);
      if (firstBytes >= JOINED_WRITE_BYTES) {
        this.head++;
        this.bytes -= firstBytes;
        socket.cork();
        for (const chunk of first) socket.write(chunk);
        socket.uncork();
        continue;
      }
      // A run of whole frames that fits one write.
      let end = this.head;
      let size = 0;
      while (end < frames.length) {
        const next = frameBytes(frames[end]!);
        if (size + next > JOINED_WRITE_BYTES) break;
        size += next;
        end++;
      }
      if (end === this.head + 1 && first.length === 1) {
        // One small frame (a broadcast's, shared by every recipient): as it is, no copy.
        this.head = end;
        this.bytes -= size;
        socket.write(first[0]!);
        continue;
      }
      const joined = Buffer.allocUnsafe(size);
      let at = 0;
      for (let i = this.head; i < end; i++) {
        for (const chunk of frames[i]!) {
          joined.set(chunk, at);
          at += chunk.length;
        }
      }
      this.head = end;
      this.bytes -= size;
      socket.write(joined);
    }
    this.compact();
  }

  /** Removes every waiting frame and returns them (for the connection's counters). */
  drop(): Buffer[][] {
    const dropped = this.frames.slice(this.head);
    this.frames = [];
    this.head = 0;
    this.bytes = 0;
    return dropped;
  }

  private compact(): void {
    if (this.head === this.frames.length) {
      this.frames = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
  }
}

function frameBytes(frame: Buffer[]): number {
  let n = 0;
  for (const chunk of frame) n += chunk.length;
  return n;
}
