// The send queue's flush: small waiting frames are joined into one write (per-write overhead is what
// costs for them), large ones go out as they are in one corked write (copying them is what would cost).
import { describe, expect, it } from 'vitest';
import { SendQueue, type QueueSocket } from '../../src/server/send-queue.js';

/** Records what reaches the socket: each write, and which cork round it was written in (0: none). */
class RecordingSocket implements QueueSocket {
  writableNeedDrain = false;
  readonly writes: Array<{ chunk: Buffer; corkRound: number }> = [];
  private corks = 0;
  private corkRound = 0;

  write(chunk: Buffer): boolean {
    this.writes.push({ chunk, corkRound: this.corks > 0 ? this.corkRound : 0 });
    return true;
  }

  cork(): void {
    if (this.corks++ === 0) this.corkRound++;
  }

  uncork(): void {
    this.corks--;
  }
}

/** A binary frame's header and payload, as the encoder hands them over. */
const frame = (byte: number, size: number): Buffer[] => [Buffer.from([0x82, 0x7e, size >> 8, size & 255]), Buffer.alloc(size, byte)];

describe('SendQueue.flushTo', () => {
  it('joins small frames into one write, in order', () => {
    const queue = new SendQueue();
    const frames = [1, 2, 3].map((b) => frame(b, 200));
    for (const f of frames) queue.push(f);
    const socket = new RecordingSocket();
    queue.flushTo(socket);
    expect(socket.writes).toHaveLength(1);
    expect(socket.writes[0]!.chunk.equals(Buffer.concat(frames.flat()))).toBe(true);
    expect(queue.length).toBe(0);
    expect(queue.bytes).toBe(0);
  });

  it('writes large frames as they are (the same buffers, no copy) under one cork, in order', () => {
    const queue = new SendQueue();
    const frames = [1, 2, 3].map((b) => frame(b, 16 * 1024));
    for (const f of frames) queue.push(f);
    const socket = new RecordingSocket();
    queue.flushTo(socket);
    const chunks = frames.flat();
    expect(socket.writes).toHaveLength(chunks.length);
    socket.writes.forEach((w, i) => expect(w.chunk).toBe(chunks[i]));
    expect(new Set(socket.writes.map((w) => w.corkRound))).toEqual(new Set([1]));
    expect(queue.length).toBe(0);
    expect(queue.bytes).toBe(0);
  });

  it('stops when the socket is full and goes on where it stopped', () => {
    const queue = new SendQueue();
    const frames = Array.from({ length: 8 }, (_, i) => frame(i, 16 * 1024));
    for (const f of frames) queue.push(f);
    const socket = new RecordingSocket();
    const write = socket.write.bind(socket);
    socket.write = (chunk) => {
      write(chunk);
      socket.writableNeedDrain = socket.writes.length >= 6;
      return !socket.writableNeedDrain;
    };
    queue.flushTo(socket);
    // One run of at most 64 KiB (three frames with their headers); then the socket said full.
    expect(socket.writes).toHaveLength(6);
    expect(queue.length).toBe(5);
    socket.writableNeedDrain = false;
    socket.write = write;
    queue.flushTo(socket);
    expect(socket.writes.map((w) => w.chunk)).toEqual(frames.flat());
    expect(queue.length).toBe(0);
  });
});
