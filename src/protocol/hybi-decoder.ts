// RFC 6455 (and hybi-07/08, same framing) frame decoder: bytes in, events out.
//
// Decisions:
// - Payloads are unmasked IN PLACE in the pushed buffers: the decoder owns what it is given. A lent
//   chunk (push's `into`) is unmasked into the buffer that comes with it instead, in the same pass.
// - A message that arrives whole in one chunk is delivered as a view of that chunk (no copy)
//   and validated with the native isUtf8; otherwise its pieces are kept as they arrive and text
//   is validated piece by piece, so invalid UTF-8 fails at the piece that makes it invalid.
// - Non-minimal length encodings (126 + a length < 126, 127 + a length < 65536) are rejected
//   with 1002: RFC 6455 §5.2 says the minimal number of bytes MUST be used.
// - The size limit counts the whole message and is checked as soon as a frame's length field is
//   complete (before its masking key and payload). A control frame's payload counts on its own
//   against the same limit, as in the maintained mod_websocket fork.
// - Close codes: RFC 6455's, plus 1004 from hybi-07/08 peers and, with allowReservedStatusCodes,
//   the unassigned ones of 1000-2999 (close-codes.ts).
// - With permessage-deflate negotiated (RFC 7692 §6), RSV1 on a message's first frame marks it
//   compressed; RSV1 anywhere else, and RSV2/RSV3 always, are 1002. A compressed message is handed
//   on whole and unchecked (its UTF-8 is checked after inflating); its size limit here counts
//   the compressed bytes, the inflater counts the rest.
import { acceptsPeerCloseCode, CloseCode } from './close-codes.js';
import { protocolError, utf8Error } from './errors.js';
import type { Decoder, DecoderOptions, DecoderSink } from './types.js';
import { Opcode } from './types.js';
import { applyMask } from './unmask.js';
import { StreamDecoder } from './stream-decoder.js';
import { isValidUtf8 } from './utf8.js';

enum HybiState {
  Header,
  Payload,
  /** After a close frame or an error: input is ignored. */
  Stopped,
}

const MAX_CONTROL_PAYLOAD = 125;
/** A one-frame message from this size up that has not all arrived yet is written straight into a
 *  buffer of its size (MessageAssembler.startWhole): copied once, not kept as views of the reads
 *  and joined (a second copy) at the end. Its size passed MaxMessageSize with the header; its pages
 *  are written (and fresh ones committed) only as its bytes arrive. */
const WHOLE_MESSAGE_MIN = 64 * 1024;
const TWO_POW_32 = 0x1_0000_0000;

class HybiDecoder extends StreamDecoder {
  private state = HybiState.Header;
  private readonly requireMask: boolean;
  private readonly allowReservedStatusCodes: boolean;
  private readonly perMessageDeflate: boolean;

  // The frame being read.
  private fin = false;
  private opcode = 0;
  private masked = false;
  private readonly mask = new Uint8Array(4);
  private frameLength = 0;
  private frameRead = 0;

  // The data message being assembled; messageOpcode 0 when none.
  private messageOpcode = 0;
  /** The message being assembled had RSV1 on its first frame (permessage-deflate). */
  private messageCompressed = false;
  /** Declared bytes of the message so far, including the current frame. */
  private messageLength = 0;

  constructor(sink: DecoderSink, options: DecoderOptions) {
    super(sink, options);
    this.requireMask = options.requireMask ?? false;
    this.allowReservedStatusCodes = options.allowReservedStatusCodes ?? false;
    this.perMessageDeflate = options.perMessageDeflate ?? false;
  }

  override push(chunk: Buffer, into?: Buffer): void {
    if (this.state === HybiState.Stopped || chunk.length === 0) return;
    this.queue.push(chunk, into);
    try {
      let progress = true;
      while (progress) {
        if (this.state === HybiState.Header) progress = this.readHeader();
        else if (this.state === HybiState.Payload) progress = this.readPayload();
        else progress = false;
      }
    } finally {
      this.queue.settle();
    }
  }

  private readHeader(): boolean {
    const queue = this.queue;
    if (queue.length < 2) return false;
    const b0 = queue.peek(0);
    const b1 = queue.peek(1);
    const len7 = b1 & 0x7f;
    const violation = this.checkFrameStart(b0, b1, len7);
    if (violation !== undefined) return this.fail(protocolError(violation));

    // The length is judged as soon as it is complete, before the masking key: a peer that
    // announces a huge frame and then stalls is refused at once, not left holding the socket.
    const extended = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    if (queue.length < 2 + extended) return false;
    const length = this.readLength(len7);
    if (typeof length === 'string') return this.fail(protocolError(length));
    const opcode = b0 & 0x0f;
    const isControl = opcode >= Opcode.Close;
    // Data frames count towards their whole message; a control frame counts on its own.
    if ((isControl ? length : this.messageLength + length) > this.maxMessageSize) {
      return this.failTooBig(isControl ? 'control frame' : 'message');
    }

    const masked = (b1 & 0x80) !== 0;
    const headerLength = 2 + extended + (masked ? 4 : 0);
    if (queue.length < headerLength) return false;
    if (masked) {
      const at = 2 + extended;
      this.mask[0] = queue.peek(at);
      this.mask[1] = queue.peek(at + 1);
      this.mask[2] = queue.peek(at + 2);
      this.mask[3] = queue.peek(at + 3);
    }
    queue.skip(headerLength);

    if (!isControl) {
      if (opcode !== Opcode.Continuation) {
        this.messageOpcode = opcode;
        this.messageCompressed = (b0 & 0x40) !== 0;
      }
      this.messageLength += length;
    }
    this.fin = (b0 & 0x80) !== 0;
    this.opcode = opcode;
    this.masked = masked;
    this.frameLength = length;
    this.frameRead = 0;
    this.state = HybiState.Payload;
    return true;
  }

  /** The payload length of the frame whose length bytes are all queued, or what is wrong with it. */
  private readLength(len7: number): number | string {
    const queue = this.queue;
    if (len7 === 126) {
      const length = (queue.peek(2) << 8) | queue.peek(3);
      return length < 126 ? 'frame length not minimally encoded' : length;
    }
    if (len7 !== 127) return len7;
    let high = 0;
    let low = 0;
    for (let i = 2; i < 6; i++) high = high * 256 + queue.peek(i);
    for (let i = 6; i < 10; i++) low = low * 256 + queue.peek(i);
    if (high >= 0x8000_0000) return '64-bit frame length with the high bit set';
    const length = high * TWO_POW_32 + low;
    return length < 0x1_0000 ? 'frame length not minimally encoded' : length;
  }

  /** The rules that the first two header bytes already decide; undefined when they pass. */
  private checkFrameStart(b0: number, b1: number, len7: number): string | undefined {
    const opcode = b0 & 0x0f;
    if ((b0 & 0x70) !== 0) {
      if (!this.perMessageDeflate) return 'RSV bits set without a negotiated extension';
      if ((b0 & 0x30) !== 0) return 'RSV2 or RSV3 set: no negotiated extension uses them';
      if (opcode === Opcode.Continuation) return 'RSV1 set on a continuation frame';
      if (opcode >= Opcode.Close) return 'RSV1 set on a control frame';
    }
    if (this.requireMask && (b1 & 0x80) === 0) return 'client frame is not masked';
    switch (opcode) {
      case Opcode.Continuation:
        return this.messageOpcode === 0 ? 'continuation frame without a message to continue' : undefined;
      case Opcode.Text:
      case Opcode.Binary:
        return this.messageOpcode !== 0 ? 'new data frame inside a fragmented message' : undefined;
      case Opcode.Close:
      case Opcode.Ping:
      case Opcode.Pong:
        if ((b0 & 0x80) === 0) return 'fragmented control frame';
        if (len7 > MAX_CONTROL_PAYLOAD) return 'control frame payload over 125 bytes';
        if (opcode === Opcode.Close && len7 === 1) return 'close frame with a 1-byte payload';
        return undefined;
      default:
        return `reserved opcode ${opcode}`;
    }
  }

  private readPayload(): boolean {
    const remaining = this.frameLength - this.frameRead;
    if (this.opcode >= Opcode.Close) {
      // Control payloads are at most 125 bytes: wait for all of it.
      if (this.queue.length < remaining) return false;
      const payload = this.queue.take(remaining);
      if (this.masked) applyMask(payload, this.mask, 0);
      this.state = HybiState.Header;
      return this.dispatchControl(payload);
    }
    if (remaining > 0 && this.queue.length === 0) return false;
    const isBinary = this.messageOpcode !== Opcode.Text;
    const compressed = this.messageCompressed;
    // Compressed bytes are not text: they are checked once inflated.
    const checkUtf8 = !isBinary && !compressed;
    const message = this.message;
    if (this.frameRead === 0 && this.fin && this.messageLength === remaining && remaining >= WHOLE_MESSAGE_MIN && this.queue.length < remaining) {
      message.startWhole(remaining);
    }
    const whole = message.wholeBuffer;
    if (whole !== undefined) return this.readWhole(whole, remaining, isBinary, compressed, checkUtf8);
    const piece = this.masked ? this.queue.takeSomeUnmasked(remaining, this.mask, this.frameRead & 3) : this.queue.takeSome(remaining);
    this.frameRead += piece.length;
    const frameDone = this.frameRead === this.frameLength;
    if (frameDone) this.state = HybiState.Header;

    if (frameDone && this.fin && this.messageLength === piece.length) {
      // The whole message is this one piece: no copy, one native UTF-8 check.
      this.endMessage();
      if (checkUtf8 && !isValidUtf8(piece)) return this.fail(utf8Error('invalid UTF-8 in a text message'));
      this.deliver(piece, isBinary, compressed);
      return true;
    }
    if (!message.append(piece, checkUtf8)) return this.fail(utf8Error('invalid UTF-8 in a text message'));
    if (!frameDone || !this.fin) return true;
    return this.finishMessage(isBinary, compressed, checkUtf8);
  }

  /** The next bytes of a message written whole (see WHOLE_MESSAGE_MIN), its one frame's. */
  private readWhole(whole: Buffer, remaining: number, isBinary: boolean, compressed: boolean, checkUtf8: boolean): boolean {
    const at = this.frameRead;
    const n = this.queue.takeInto(whole, at, remaining, this.masked ? this.mask : undefined, at & 3);
    this.frameRead += n;
    if (!this.message.wrote(at, n, checkUtf8)) return this.fail(utf8Error('invalid UTF-8 in a text message'));
    if (this.frameRead < this.frameLength) return true;
    this.state = HybiState.Header;
    return this.finishMessage(isBinary, compressed, checkUtf8);
  }

  private finishMessage(isBinary: boolean, compressed: boolean, checkUtf8: boolean): boolean {
    const data = this.message.finish(checkUtf8);
    this.endMessage();
    if (data === undefined) return this.fail(utf8Error('text message ends inside a UTF-8 sequence'));
    this.deliver(data, isBinary, compressed);
    return true;
  }

  private deliver(data: Buffer, isBinary: boolean, compressed: boolean): void {
    if (compressed) this.sink.onMessage(data, isBinary, true);
    else this.sink.onMessage(data, isBinary);
  }

  private endMessage(): void {
    this.messageOpcode = 0;
    this.messageCompressed = false;
    this.messageLength = 0;
    this.message.reset();
  }

  private dispatchControl(payload: Buffer): boolean {
    if (this.opcode === Opcode.Ping) {
      this.sink.onPing(payload);
      return true;
    }
    if (this.opcode === Opcode.Pong) {
      this.sink.onPong(payload);
      return true;
    }
    if (payload.length === 0) {
      this.stop();
      this.sink.onClose(CloseCode.NoStatus, '');
      return false;
    }
    const code = payload.readUInt16BE(0);
    const rules = { allowReserved: this.allowReservedStatusCodes, draftTooBig: this.tooBigCloseCode === CloseCode.TooLargeDraft };
    if (!acceptsPeerCloseCode(code, rules)) return this.fail(protocolError(`invalid close code ${code}`));
    const reason = payload.subarray(2);
    if (!isValidUtf8(reason)) return this.fail(utf8Error('close reason is not valid UTF-8'));
    this.stop();
    this.sink.onClose(code, reason.toString('utf8'));
    return false;
  }

  protected enterStopped(): void {
    this.state = HybiState.Stopped;
  }
}

/** A decoder for RFC 6455 / hybi-07/08 frames. Pushed buffers are unmasked in place (lent ones into their `into`). */
export function createHybiDecoder(sink: DecoderSink, options: DecoderOptions): Decoder {
  return new HybiDecoder(sink, options);
}

