// Sans-I/O framing of the control socket's line protocol: bytes in, requests out.
// A request is a line (LF or CRLF terminated) or, when the line announces a length
// (SENDB ID 5), that line followed by exactly that many raw bytes.
import { WsgateError } from '../errors.js';
import { ControlLimits } from './commands.js';

export type LineRequest =
  | { kind: 'line'; line: string }
  | { kind: 'payload'; line: string; payload: Buffer }
  /** fatal: the stream cannot be resynchronised (e.g. an unreadable length); stop reading. */
  | { kind: 'error'; error: WsgateError; fatal: boolean };

/** Says whether a command line announces a payload: its byte length, undefined when it does
 *  not, or a WsgateError when it should but the length is unreadable. */
export type PayloadLengthOf = (line: string) => number | undefined | WsgateError;

export interface LineParserOptions {
  maxLineBytes?: number;
  maxPayloadBytes?: number;
}

enum ParserState {
  Line,
  /** The current line is over the limit: drop bytes up to the next LF. */
  SkipLine,
  Payload,
  Stopped,
}

const LF = 0x0a;
const CR = 0x0d;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export class LineParser {
  private state = ParserState.Line;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private remaining = 0; // payload bytes still expected (Payload, SkipPayload)
  private payloadLine = '';
  private readonly maxLineBytes: number;
  private readonly maxPayloadBytes: number;

  constructor(private readonly payloadLengthOf: PayloadLengthOf, options: LineParserOptions = {}) {
    this.maxLineBytes = options.maxLineBytes ?? ControlLimits.maxLineBytes; // both bound memory per client
    this.maxPayloadBytes = options.maxPayloadBytes ?? ControlLimits.maxPayloadBytes;
  }

  get stopped(): boolean {
    return this.state === ParserState.Stopped;
  }

  push(chunk: Buffer): LineRequest[] {
    const out: LineRequest[] = [];
    let offset = 0;
    while (offset < chunk.length && this.state !== ParserState.Stopped) {
      switch (this.state) {
        case ParserState.Line:
          offset = this.readLine(chunk, offset, out);
          break;
        case ParserState.SkipLine: {
          const lf = chunk.indexOf(LF, offset);
          if (lf < 0) return out;
          offset = lf + 1;
          this.state = ParserState.Line;
          break;
        }
        case ParserState.Payload:
          offset = this.readPayload(chunk, offset, out);
          break;
      }
    }
    return out;
  }

  private readLine(chunk: Buffer, offset: number, out: LineRequest[]): number {
    const lf = chunk.indexOf(LF, offset);
    const end = lf < 0 ? chunk.length : lf;
    // The limit counts the line without its terminator; a CR before LF is part of the terminator.
    if (this.buffered + (end - offset) > this.maxLineBytes + 1) return this.lineTooLong(chunk, lf, out);
    if (lf < 0) {
      this.keep(chunk.subarray(offset));
      return chunk.length;
    }
    this.keep(chunk.subarray(offset, lf));
    let bytes = this.take();
    if (bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
    if (bytes.length > this.maxLineBytes) return this.lineTooLong(chunk, lf, out);
    this.onLine(bytes, out);
    return lf + 1;
  }

  private lineTooLong(chunk: Buffer, lf: number, out: LineRequest[]): number {
    this.take();
    out.push({ kind: 'error', fatal: false, error: new WsgateError('MESSAGE_TOO_BIG', `line longer than ${this.maxLineBytes} bytes`) });
    if (lf < 0) {
      this.state = ParserState.SkipLine;
      return chunk.length;
    }
    return lf + 1;
  }

  private onLine(bytes: Buffer, out: LineRequest[]): void {
    if (bytes.length === 0) return; // blank lines are ignored (also the LF some clients add after a payload)
    let line: string;
    try {
      line = utf8.decode(bytes);
    } catch {
      out.push({ kind: 'error', fatal: false, error: new WsgateError('INVALID_UTF8', 'the command line is not valid UTF-8') });
      return;
    }
    const length = this.payloadLengthOf(line);
    if (length === undefined) {
      out.push({ kind: 'line', line });
    } else if (length instanceof WsgateError) {
      // Without a readable length the following bytes cannot be told apart from commands.
      out.push({ kind: 'error', fatal: true, error: length });
      this.state = ParserState.Stopped;
    } else if (length > this.maxPayloadBytes) {
      // Skipping the payload would swallow the client's stream (a 15-digit length: for ever) while
      // it waits for an answer; say why and stop instead.
      const message = `payload of ${length} bytes announced, more than the ${this.maxPayloadBytes} allowed (WebSocketControlMaxPayload); closing, as the bytes that follow cannot be told from commands`;
      out.push({ kind: 'error', fatal: true, error: new WsgateError('MESSAGE_TOO_BIG', message) });
      this.state = ParserState.Stopped;
    } else {
      this.payloadLine = line;
      this.remaining = length;
      this.state = ParserState.Payload;
      if (length === 0) this.finishPayload(out);
    }
  }

  private readPayload(chunk: Buffer, offset: number, out: LineRequest[]): number {
    const n = Math.min(this.remaining, chunk.length - offset);
    this.keep(chunk.subarray(offset, offset + n));
    this.remaining -= n;
    if (this.remaining === 0) this.finishPayload(out);
    return offset + n;
  }

  private finishPayload(out: LineRequest[]): void {
    out.push({ kind: 'payload', line: this.payloadLine, payload: this.take() });
    this.payloadLine = '';
    this.state = ParserState.Line;
  }

  private keep(part: Buffer): void {
    if (part.length === 0) return;
    this.chunks.push(part);
    this.buffered += part.length;
  }

  private take(): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    return all;
  }
}
