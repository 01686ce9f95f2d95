// Plain TCP sockets read into the gateway's shared buffer (src/server/shared-read.ts): real sockets
// on 127.0.0.1, the same switch the connections make after their 101.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { NODE_READ_SIZE, SHARED_READ_SIZE, SharedReads } from '../../src/server/shared-read.js';

interface Pair {
  server: Socket;
  client: Socket;
}

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.close();
});

/** A connected pair: the server side as accepted (reading into Node's buffers, not flowing). */
function pair(): Promise<Pair> {
  return new Promise((resolve, reject) => {
    const server = createServer((accepted) => {
      sockets.push(accepted);
      resolve({ server: accepted, client });
    });
    servers.push(server);
    let client!: Socket;
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      client = connect(port, '127.0.0.1');
      client.on('error', reject);
      sockets.push(client);
    });
  });
}

const until = async (done: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** Attaches `reads` to the accepted socket; collects what the receiver gets and counts 'data' events. */
function collect(reads: SharedReads, socket: Socket): { chunks: Buffer[]; buffered: Buffer | undefined; dataEvents: () => number; wrongCalls: () => number } {
  const chunks: Buffer[] = [];
  let dataEvents = 0;
  let wrongCalls = 0;
  socket.on('data', () => dataEvents++);
  socket.pause();
  const buffered = reads.attach(socket, function (this: Socket, read: Buffer) {
    if (this !== socket) wrongCalls++;
    // Lent: the bytes lie in the shared buffer, which the next read reuses.
    if (read.buffer !== reads.buffer?.buffer) wrongCalls++;
    chunks.push(Buffer.from(read));
  });
  return { chunks, buffered, dataEvents: () => dataEvents, wrongCalls: () => wrongCalls };
}

describe('shared reads', () => {
  it('a plain TCP socket reads into the shared buffer: every byte reaches the receiver in order, none as a data event', async () => {
    const { server, client } = await pair();
    const reads = new SharedReads();
    const got = collect(reads, server);
    expect(got.buffered).toEqual(Buffer.alloc(0));
    server.resume();
    const sent = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    client.write(sent.subarray(0, 5));
    client.write(sent.subarray(5));
    await until(() => got.chunks.reduce((n, c) => n + c.length, 0) >= sent.length, 'all bytes');
    // Buffer.equals: toEqual compares 300,000 bytes one by one, for a second.
    expect(Buffer.concat(got.chunks).equals(sent)).toBe(true);
    expect(got.dataEvents()).toBe(0);
    expect(got.wrongCalls()).toBe(0);
  });

  it('bytes the socket read before the switch are handed back, and what follows comes after them', async () => {
    const { server, client } = await pair();
    client.write('before ');
    // An accepted socket reads on its own into its stream buffer until someone listens.
    await until(() => server.readableLength >= 7, 'the first bytes in the stream buffer');
    const got = collect(new SharedReads(), server);
    expect(got.buffered?.toString()).toBe('before ');
    // Still paused after the switch: nothing is read until resume().
    client.write('after');
    await new Promise((r) => setTimeout(r, 100));
    expect(got.chunks).toEqual([]);
    server.resume();
    await until(() => got.chunks.length > 0, 'the second write');
    expect(Buffer.concat(got.chunks).toString()).toBe('after');
  });

  it('a read takes more than Node’s 64 KiB when more is waiting', async () => {
    const { server, client } = await pair();
    const got = collect(new SharedReads(), server);
    // Paused: the handle does not read, so the kernel collects what the client sends meanwhile.
    client.write(Buffer.alloc(400 * 1024, 7));
    await new Promise((r) => setTimeout(r, 150));
    expect(got.chunks).toEqual([]);
    server.resume();
    await until(() => got.chunks.reduce((n, c) => n + c.length, 0) >= 400 * 1024, 'all bytes');
    expect(got.chunks[0]!.length).toBeGreaterThan(NODE_READ_SIZE);
    expect(Math.max(...got.chunks.map((c) => c.length))).toBeLessThanOrEqual(SHARED_READ_SIZE);
  });

  it('pause() stops the reads and resume() starts them again', async () => {
    const { server, client } = await pair();
    const got = collect(new SharedReads(), server);
    server.resume();
    client.write('one');
    await until(() => got.chunks.length === 1, 'the first write');
    server.pause();
    client.write('two');
    await new Promise((r) => setTimeout(r, 100));
    expect(got.chunks.length).toBe(1);
    server.resume();
    await until(() => got.chunks.length === 2, 'the second write');
    expect(got.chunks[1]!.toString()).toBe('two');
  });

  it('the peer’s end of stream still ends the socket', async () => {
    const { server, client } = await pair();
    const got = collect(new SharedReads(), server);
    const ended = new Promise<void>((resolve) => server.once('end', resolve));
    server.resume();
    client.end('last');
    await ended;
    expect(Buffer.concat(got.chunks).toString()).toBe('last');
  });

  it('a TLS socket and a destroyed one keep reading the usual way', async () => {
    const { server } = await pair();
    const reads = new SharedReads();
    const tls = new TLSSocket(server, { isServer: true });
    sockets.push(tls);
    expect(reads.attach(tls, () => undefined)).toBeUndefined();
    const other = await pair();
    other.server.destroy();
    expect(reads.attach(other.server, () => undefined)).toBeUndefined();
    expect(reads.buffer).toBeUndefined();
  });

  it("lendInto hands out the same memory read after read while each is given back free, new memory after one that is not", () => {
    const reads = new SharedReads();
    const first = reads.lendInto(100);
    expect(first.length).toBe(100);
    reads.settleInto(true);
    const second = reads.lendInto(16 * 1024);
    expect(second.buffer).toBe(first.buffer);
    expect(second.byteOffset).toBe(first.byteOffset);
    reads.settleInto(false);
    const third = reads.lendInto(10);
    expect(third.buffer).not.toBe(first.buffer);
  });

  it('a read is kept in a spare of at most twice its size (16 KiB at least), so what still refers to it keeps no more alive', () => {
    const reads = new SharedReads();
    for (const [length, size] of [
      [1, 16 * 1024],
      [16 * 1024, 16 * 1024],
      [16 * 1024 + 1, 32 * 1024],
      [65_568, 128 * 1024],
      [SHARED_READ_SIZE, SHARED_READ_SIZE],
    ]) {
      const kept = reads.lendInto(length!);
      expect([kept.length, kept.buffer.byteLength]).toEqual([length, size]);
      reads.settleInto(false);
    }
    // A gateway reading 64 KiB never lends more than that.
    expect(new SharedReads(NODE_READ_SIZE).lendInto(NODE_READ_SIZE).buffer.byteLength).toBe(NODE_READ_SIZE);
  });
});
