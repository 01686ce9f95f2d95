// draft-hixie-75/76 frame decoder: bytes in, events out.
//
// Frames: 0x00 <UTF-8 text> 0xFF is a message. Other type bytes below 0x80 are text frames whose
// data is discarded (draft-76 §5.3). A type byte with the high bit set is followed by a length in
// 7-bit groups (high bit = more) and that many bytes, which are discarded — except 0xFF 0x00,
// the closing frame, reported as onClose(1005, ''): hixie frames carry no close code.
//
// Hixie has no close codes: the connection just closes. Errors still carry the RFC 6455 code of
// the same fault (1007 bad UTF-8, tooBigCloseCode — 1009 by default — for a frame over
// maxMessageSize, text or discarded alike) so logs read the same for every version.
import { CloseCode } from './close-codes.js';
import { utf8Error } from './errors.js';
import type { Decoder, DecoderOptions, DecoderSink } from './types.js';
import { StreamDecoder } from './stream-decoder.js';
import { isValidUtf8 } from './utf8.js';

enum HixieState {
  FrameType,
  Text,
  Length,
  Skip,
  Stopped,
}

const TEXT_FRAME = 0x00;
const END_OF_TEXT = 0xff;
const CLOSE_FRAME = 0xff;

class HixieDecoder extends StreamDecoder {
  private state = HixieState.FrameType;

  private frameType = 0;
  /** Text: bytes so far. Length-prefixed: the declared length, then what is left to skip. */
  private length = 0;
  /** Part of the current text frame came in an earlier piece (so it is not whole in one chunk). */
  private started = false;

  override push(chunk: Buffer, into?: Buffer): void {
    if (this.state === HixieState.Stopped || chunk.length === 0) return;
    // Hixie frames are not masked: a lent chunk is simply copied first.
    if (into !== undefined) chunk.copy(into);
    this.queue.push(into ?? chunk);
    while (this.queue.length > 0 && this.step());
  }

  /** Consumes what it can of the queue (never empty here); false to stop the loop. */
  private step(): boolean {
    switch (this.state) {
      case HixieState.FrameType:
        return this.readFrameType();
      case HixieState.Text:
        return this.readText();
      case HixieState.Length:
        return this.readLength();
      case HixieState.Skip:
        return this.skip();
      default:
        return false;
    }
  }

  private readFrameType(): boolean {
    this.frameType = this.queue.peek(0);
    this.queue.skip(1);
    this.length = 0;
    this.state = (this.frameType & 0x80) === 0 ? HixieState.Text : HixieState.Length;
    return true;
  }

  private readText(): boolean {
    const head = this.queue.head()!;
    const from = this.queue.headOffset();
    const end = head.indexOf(END_OF_TEXT, from);
    const found = end !== -1;
    const pieceLength = (found ? end : head.length) - from;
    const isMessage = this.frameType === TEXT_FRAME;
    const allowed = this.maxMessageSize - this.length;
    if (pieceLength > allowed) {
      // Report the first fault in stream order, however the bytes were chunked: bad UTF-8 within
      // the allowed bytes comes before the size.
      if (isMessage && !this.message.append(head.subarray(from, from + allowed), true)) {
        return this.fail(utf8Error('invalid UTF-8 in a text frame'));
      }
      return this.failTooBig();
    }
    const piece = this.queue.takeSome(pieceLength);
    if (found) this.queue.skip(1);
    if (found && !this.started) {
      // The whole frame is in one chunk: no copy, one native UTF-8 check.
      this.endFrame();
      if (!isMessage) return true;
      if (!isValidUtf8(piece)) return this.fail(utf8Error('invalid UTF-8 in a text frame'));
      this.sink.onMessage(piece, false);
      return true;
    }
    this.length += pieceLength;
    this.started = true;
    if (isMessage && !this.message.append(piece, true)) return this.fail(utf8Error('invalid UTF-8 in a text frame'));
    if (!found) return true;
    const data = isMessage ? this.message.finish(true) : undefined;
    this.endFrame();
    if (!isMessage) return true;
    if (data === undefined) return this.fail(utf8Error('text frame ends inside a UTF-8 sequence'));
    this.sink.onMessage(data, false);
    return true;
  }

  private endFrame(): void {
    this.state = HixieState.FrameType;
    this.length = 0;
    this.started = false;
    this.message.reset();
  }

  private readLength(): boolean {
    const b = this.queue.peek(0);
    this.queue.skip(1);
    this.length = this.length * 128 + (b & 0x7f);
    if (this.length > this.maxMessageSize) return this.failTooBig();
    if ((b & 0x80) !== 0) return true;
    if (this.length > 0) {
      this.state = HixieState.Skip;
      return true;
    }
    if (this.frameType === CLOSE_FRAME) {
      this.stop();
      this.sink.onClose(CloseCode.NoStatus, '');
      return false;
    }
    this.state = HixieState.FrameType;
    return true;
  }

  /** Discards the payload of a length-prefixed (binary) frame. */
  private skip(): boolean {
    const n = Math.min(this.length, this.queue.length);
    this.queue.skip(n);
    this.length -= n;
    if (this.length === 0) this.state = HixieState.FrameType;
    return true;
  }

  protected enterStopped(): void {
    this.state = HixieState.Stopped;
  }
}

/** A decoder for hixie-75/76 frames. Pushed buffers are not modified; messages may be views of them. */
export function createHixieDecoder(sink: DecoderSink, options: DecoderOptions): Decoder {
  return new HixieDecoder(sink, options);
}
