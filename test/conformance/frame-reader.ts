// Incremental parser for server → client frames. It records what it sees, including violations a
// server must never commit (masked frames, RSV bits, bad lengths), instead of trusting the server.

export interface ServerFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);
  /** Chunks not yet joined to `buffered`: a big frame is joined once, not once per chunk. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes the frame at the head of `buffered` needs in all (0 while its header is incomplete). */
  private needed = 0;
  /** Set when the server sent something no RFC 6455 server may send; parsing stops. */
  violation: string | undefined;

  constructor(private readonly onFrame: (frame: ServerFrame) => void) {}

  push(chunk: Buffer): void {
    if (this.violation !== undefined) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.buffered.length + this.pendingBytes < this.needed) return;
    this.buffered = Buffer.concat([this.buffered, ...this.pending]);
    this.pending = [];
    this.pendingBytes = 0;
    this.needed = 0;
    for (;;) {
      const consumed = this.parseOne();
      if (consumed === 0) return;
      this.buffered = this.buffered.subarray(consumed);
    }
  }

  /** Bytes consumed by one complete frame, 0 when more input is needed. */
  private parseOne(): number {
    const b = this.buffered;
    if (b.length < 2) return 0;
    const masked = (b[1]! & 0x80) !== 0;
    let length = b[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return 0;
      length = b.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return 0;
      const big = b.readBigUInt64BE(2);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) return this.fail('64-bit length with the top bit range set');
      length = Number(big);
      offset = 10;
    }
    const maskKey = masked ? b.subarray(offset, offset + 4) : undefined;
    if (masked) offset += 4;
    if (b.length < offset + length) {
      this.needed = offset + length;
      return 0;
    }
    let payload = Buffer.from(b.subarray(offset, offset + length));
    if (maskKey !== undefined) {
      if (maskKey.length < 4) return 0;
      for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ maskKey[i & 3]!;
    }
    const frame: ServerFrame = { fin: (b[0]! & 0x80) !== 0, rsv: (b[0]! >> 4) & 0x7, opcode: b[0]! & 0xf, masked, payload };
    if (masked) this.violation = 'server sent a masked frame';
    else if (frame.rsv !== 0) this.violation = `server sent RSV bits ${frame.rsv}`;
    this.onFrame(frame);
    if (this.violation !== undefined) return 0;
    return offset + length;
  }

  private fail(message: string): number {
    this.violation = message;
    return 0;
  }
}
