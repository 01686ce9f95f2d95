// A connection's outgoing frames that the socket is not holding yet, bounded by what they cost in
// memory rather than by their bytes alone. Node's socket keeps every write() as an entry of its
// own (a request object, a callback slot, the Buffer objects: over 100 bytes each beyond the
// payload), so a million 1-byte messages to a client that never reads cost far more than 1 MB.
// Frames are handed to the socket only while it is below its high-water mark; the rest wait here,
// each counted at its bytes plus MESSAGE_OVERHEAD, and go out joined into large writes when the
// socket drains. On overflow whatever waits here is dropped whole (no frame is ever cut), so the
// close frame goes out right behind what the socket already holds.

import { Fifo } from './fifo.js';

/** What one waiting frame costs beyond its bytes: its Buffer objects and its slot here. */
export const MESSAGE_OVERHEAD = 128;
/** Waiting frames are joined into socket writes of up to this many bytes when the socket drains. */
const JOINED_WRITE_BYTES = 64 * 1024;
/** Frames of this size on average are written as they are (one corked writev), not copied into one
 *  buffer: joining saves per-write overhead, which such frames already amortize, and copying them
 *  into new memory costs more (60 KiB frames from a plugin thread: the copies and their page faults
 *  were a fifth of the event loop's time in `perf`). */
const UNJOINED_FRAME_BYTES = 4096;

/** The socket side the queue writes to (a net.Socket). */
export interface QueueSocket {
  readonly writableNeedDrain: boolean;
  write(chunk: Buffer): boolean;
  cork(): void;
  uncork(): void;
}

export class SendQueue {
  private readonly frames = new Fifo<Buffer[]>();
  /** Payload and header bytes waiting. */
  bytes = 0;

  get length(): number {
    return this.frames.length;
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
    while (frames.length > 0 && !socket.writableNeedDrain) {
      // A run of whole frames that fits one write (a first frame larger than that is a run alone).
      let count = 0;
      let size = 0;
      while (count < frames.length) {
        const next = frameBytes(frames.peek(count)!);
        if (count > 0 && size + next > JOINED_WRITE_BYTES) break;
        size += next;
        count++;
      }
      this.bytes -= size;
      const first = frames.peek()!;
      if (count === 1 && first.length === 1) {
        // One frame in one buffer (a broadcast's, shared by every recipient): as it is, no copy.
        frames.shift();
        socket.write(first[0]!);
        continue;
      }
      if (size >= count * UNJOINED_FRAME_BYTES) {
        socket.cork();
        for (let i = 0; i < count; i++) for (const chunk of frames.shift()!) socket.write(chunk);
        socket.uncork();
        continue;
      }
      const joined = Buffer.allocUnsafe(size);
      let at = 0;
      for (let i = 0; i < count; i++) {
        for (const chunk of frames.shift()!) {
          joined.set(chunk, at);
          at += chunk.length;
        }
      }
      socket.write(joined);
    }
  }

  /** Removes every waiting frame and returns them (for the connection's counters). */
  drop(): Buffer[][] {
    this.bytes = 0;
    return this.frames.clear();
  }
}

function frameBytes(frame: Buffer[]): number {
  let n = 0;
  for (const chunk of frame) n += chunk.length;
  return n;
}
