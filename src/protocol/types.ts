// Contracts of the sans-I/O protocol layer: bytes in, events out; no sockets, no timers.
import type { WsgateError } from '../errors.js';

/** What a handshake negotiated. Numbers are RFC 6455 Sec-WebSocket-Version values. */
export type ProtocolVersion = 13 | 8 | 7 | 'hixie-76' | 'hixie-75';

export enum Opcode {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xa,
}

/** Receives what a decoder found, in stream order. */
export interface DecoderSink {
  /** A complete message (fragments reassembled; text already validated as UTF-8). `compressed`:
   *  permessage-deflate data (RSV1), still to be inflated and, for text, checked as UTF-8. */
  onMessage(data: Buffer, isBinary: boolean, compressed?: boolean): void;
  onPing(data: Buffer): void;
  onPong(data: Buffer): void;
  /** The peer's close frame. code is 1005 when the frame had no payload. */
  onClose(code: number, reason: string): void;
  /** A protocol violation. error.closeCode is the close code to answer with; the decoder takes no more input. */
  onError(error: WsgateError): void;
}

export interface DecoderOptions {
  /** Whole-message limit (MaxMessageSize). */
  maxMessageSize: number;
  /** Close code for an oversized message: 1009 for version 13, 1004 for 7/8. */
  tooBigCloseCode?: number;
  /** Server side: incoming frames must be masked. */
  requireMask?: boolean;
  /** WebSocketAllowReservedStatusCodes: a peer's close frame may carry an unassigned code of
   *  1000-2999. 1005, 1006, 1015 and codes outside 1000-4999 are refused (1002) regardless. */
  allowReservedStatusCodes?: boolean;
  /** permessage-deflate was negotiated: RSV1 is allowed on the first frame of a data message. */
  perMessageDeflate?: boolean;
}

export interface Decoder {
  /** Feed bytes from the socket. Events are delivered synchronously to the sink. Without `into`
   *  the decoder owns `chunk` (it may unmask in place and deliver views of it). With `into`, a
   *  buffer of chunk's length, `chunk` is only lent for the call: what the decoder delivers or keeps
   *  lies in `into`, which it fills (a payload is unmasked straight into it). */
  push(chunk: Buffer, into?: Buffer): void;
  /** Bytes of earlier pushes are kept (a frame or a message not complete yet): for lent chunks,
   *  views of the `into` buffers they were kept in. */
  holdsInput(): boolean;
}

/** Server → client framing. Results are arrays of chunks written in order (header, payload) so large
 *  payloads are never copied; the bytes do not depend on the connection, so one encoding can be
 *  written to many sockets (broadcast). */
export interface Encoder {
  message(data: Buffer, isBinary: boolean): Buffer[];
  /** undefined when the protocol has no such frame (hixie). */
  ping(data: Buffer): Buffer[] | undefined;
  pong(data: Buffer): Buffer[] | undefined;
  /** code undefined → empty close payload (peer sees 1005). */
  close(code?: number, reason?: string): Buffer[];
}
