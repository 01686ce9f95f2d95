// What the hybi and hixie decoders share: the input queue, the message being assembled, the size
// limit, and how they stop (after a close frame or at the first error, for good).
import type { WsgateError } from '../errors.js';
import { ByteQueue } from './byte-queue.js';
import { CloseCode } from './close-codes.js';
import { tooBigError } from './errors.js';
import { MessageAssembler } from './message-assembler.js';
import type { Decoder, DecoderOptions, DecoderSink } from './types.js';

export abstract class StreamDecoder implements Decoder {
  protected readonly queue = new ByteQueue();
  protected readonly message = new MessageAssembler();
  protected readonly maxMessageSize: number;
  protected readonly tooBigCloseCode: number;

  constructor(
    protected readonly sink: DecoderSink,
    options: DecoderOptions,
  ) {
    this.maxMessageSize = options.maxMessageSize;
    this.tooBigCloseCode = options.tooBigCloseCode ?? CloseCode.MessageTooBig;
  }

  abstract push(chunk: Buffer, into?: Buffer): void;

  holdsInput(): boolean {
    return this.queue.length > 0 || this.message.holding;
  }

  /** Switch the subclass's state machine to its Stopped state. */
  protected abstract enterStopped(): void;

  /** No more input will be read; what is buffered is dropped. */
  protected stop(): void {
    this.enterStopped();
    this.queue.clear();
    this.message.reset();
  }

  /** Stops, then reports the error: the last event this decoder delivers. */
  protected fail(error: WsgateError): false {
    this.stop();
    this.sink.onError(error);
    return false;
  }

  protected failTooBig(what: 'message' | 'control frame' = 'message'): false {
    return this.fail(tooBigError(this.maxMessageSize, this.tooBigCloseCode, what));
  }
}
