// The pieces of one message as they arrive, with incremental UTF-8 checking for text so that a
// bad piece is caught when it arrives, not at the end of the message.
//
// Large pieces are kept as views of the pushed chunks (no copy). Small ones are copied into a
// shared block: a peer that trickles a big message in 1-byte TCP segments or 1-byte frames would
// otherwise cost one Buffer object (~100 bytes of heap) per byte.
//
// A message whose size is known when it starts (one frame) can instead be written by the decoder
// straight into one buffer of that size (startWhole): its bytes are copied once, out of the reads,
// which then hold nothing of it (a lent read goes back at once), and it is not joined at the end.
import { Utf8Validator } from './utf8.js';

/** Pieces shorter than this are copied into the block. */
const SMALL_PIECE = 256;
const BLOCK_SIZE = 16 * 1024;

export class MessageAssembler {
  private pieces: Buffer[] = [];
  private bytes = 0;
  private readonly utf8 = new Utf8Validator();
  /** Block for small pieces; block[blockStart..blockUsed] is not yet in `pieces`. */
  private block: Buffer | undefined;
  private blockStart = 0;
  private blockUsed = 0;
  /** The message's own buffer, when it is written whole (startWhole). */
  private whole: Buffer | undefined;

  /** Pieces of an unfinished message are kept (views of what was pushed, or the block); a message
   *  written whole holds none of what was pushed. */
  get holding(): boolean {
    return this.bytes > 0;
  }

  /** The message is `length` bytes: the caller writes them in order into `wholeBuffer` and reports
   *  each part with `wrote`. */
  startWhole(length: number): void {
    this.whole = Buffer.allocUnsafe(length);
  }

  /** The buffer startWhole made for the message being assembled; undefined when it goes in pieces. */
  get wholeBuffer(): Buffer | undefined {
    return this.whole;
  }

  /** The whole buffer's bytes [at, at + length) are written, after those before them; false when
   *  they make the text invalid UTF-8. */
  wrote(at: number, length: number, isText: boolean): boolean {
    return !isText || length === 0 || this.utf8.feed(this.whole!.subarray(at, at + length));
  }

  /** Adds a piece; false when it makes the text invalid UTF-8. */
  append(piece: Buffer, isText: boolean): boolean {
    const length = piece.length;
    if (length === 0) return true;
    if (length < SMALL_PIECE) {
      if (this.block === undefined || this.blockUsed + length > this.block.length) {
        this.flushBlock();
        this.block = Buffer.allocUnsafe(BLOCK_SIZE);
        this.blockStart = 0;
        this.blockUsed = 0;
      }
      this.block.set(piece, this.blockUsed);
      this.blockUsed += length;
    } else {
      this.flushBlock();
      this.pieces.push(piece);
    }
    this.bytes += length;
    return !isText || this.utf8.feed(piece);
  }

  /** The whole message and a reset; undefined when text ends inside a UTF-8 sequence. */
  finish(isText: boolean): Buffer | undefined {
    const whole = this.whole;
    if (whole !== undefined) {
      const complete = !isText || this.utf8.end();
      this.reset();
      return complete ? whole : undefined;
    }
    this.flushBlock();
    const pieces = this.pieces;
    const complete = !isText || this.utf8.end();
    const only = pieces.length === 1 ? pieces[0]! : undefined;
    // A lone view is returned as is, unless it lies in a block: then copy, so a kept message
    // does not hold on to the whole block.
    const data = only !== undefined && only.buffer !== this.block?.buffer ? only : Buffer.concat(pieces, this.bytes);
    this.reset();
    return complete ? data : undefined;
  }

  reset(): void {
    this.pieces = [];
    this.bytes = 0;
    this.utf8.reset();
    this.block = undefined;
    this.whole = undefined;
  }

  private flushBlock(): void {
    if (this.block === undefined || this.blockUsed === this.blockStart) return;
    this.pieces.push(this.block.subarray(this.blockStart, this.blockUsed));
    this.blockStart = this.blockUsed;
  }
}
