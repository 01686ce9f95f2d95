// What the helper hands to JS: records of [u32 token][u32 type][u32 length][payload], little-endian.
/** WebSocketPlugin message types (the ABI's constants) plus the helper's own records. */
export enum RecordType {
  Text = 0,
  Binary = 128,
  Close = 255,
  Ping = 256,
  Pong = 257,
  /** The plugin's queue went over its byte cap: close with 1008. */
  Overflow = 0x1000,
  /** on_disconnect returned: the C connection may be freed. */
  Disconnected = 0x1001,
  /** A plugin's ap_log_* line: u8 Apache level, source NUL, text. */
  Log = 0x1002,
  /** A send of bytes inside the messages on_message was given: u32 type, u32 offset, u32 length
   *  into the memory the call got (the `input` of dispatchRecords), delivered without a copy. */
  InputSlice = 0x1003,
  /** A call's text and binary replies, framed by the helper (the call was told the connection's
   *  frames carry no extension): u32 frame count, then the frames as they go on the wire. */
  Frames = 0x1004,
}

/** One ap_log_* line of a plugin. */
export interface PluginLogLine {
  /** Apache's level: APLOG_EMERG 0 … APLOG_DEBUG 7, APLOG_TRACE1-8 8-15. */
  level: number;
  /** 'file.c(42)' from APLOG_MARK; '' when unknown. */
  source: string;
  text: string;
}

export function parseLogRecord(payload: Buffer): PluginLogLine {
  const end = payload.indexOf(0, 1);
  const sourceEnd = end < 0 ? payload.length : end;
  return {
    level: payload.length > 0 ? payload[0]! : 6,
    source: payload.toString('utf8', 1, sourceEnd),
    text: end < 0 ? '' : payload.toString('utf8', end + 1),
  };
}

export const RECORD_HEADER_SIZE = 12;
/** A Frames record's bytes besides its frames and a header of at most 10 bytes per frame. */
export const FRAMES_RECORD_OVERHEAD = RECORD_HEADER_SIZE + 4;
export const MAX_FRAME_HEADER_SIZE = 10;

/** Receives one connection's records, in the order the plugin queued them. */
export interface RecordTarget {
  /** `payload` is owned by the receiver (never reused). */
  deliver(type: RecordType, payload: Buffer): void;
  /** `frames`: `count` encoded text/binary frames (a Frames record), owned like `deliver`'s payload. */
  deliverFrames(frames: Buffer, count: number): void;
  disconnected(): void;
  pluginLog(line: PluginLogLine): void;
}

export type TargetLookup = (token: number) => RecordTarget | undefined;
/** Log lines of no live connection (ap_log_error with a NULL server, a thread after disconnect). */
export type OrphanLog = (line: PluginLogLine) => void;

/** The little-endian u32 at `at`. Not Buffer#readUInt32LE: its argument checks (a call through
 *  Node's validators per field) were the largest part of dispatching a record. */
function u32(buf: Buffer, at: number): number {
  return (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
}

/** The messages one on_message call was given, which its InputSlice records name by offset from
 *  `origin` in `memory` (where the pointer the helper got points). A slice that is all of one
 *  message (an echo) is that message's own Buffer; any other is a new view of the memory. */
export class CallInput {
  /** Messages before this one end before the last slice asked for (replies come in message order). */
  private next = 0;

  constructor(
    /** In the order of their bytes in `memory` (a socket read's messages, as decoded). */
    private readonly messages: readonly Buffer[],
    private memory: ArrayBufferLike | undefined,
    private readonly origin: number,
  ) {}

  /** One message at `data.byteOffset` of its memory, the pointer the helper got being `data`. */
  static of(data: Buffer): CallInput {
    return new CallInput([data], undefined, data.byteOffset);
  }

  slice(offset: number, length: number): Buffer {
    const at = this.origin + offset;
    const messages = this.messages;
    let i = this.next;
    // Past the messages that end before this slice starts (and the empty ones): the cursor only
    // moves forward, so a call's replies cost one look each, however many messages it had.
    while (i < messages.length && (messages[i]!.length === 0 || messages[i]!.byteOffset + messages[i]!.length <= at)) i++;
    this.next = i;
    const message = messages[i];
    if (message !== undefined && message.byteOffset === at && message.length === length) {
      this.next = i + 1;
      return message;
    }
    this.memory ??= messages[0]!.buffer;
    return Buffer.from(this.memory, at, length);
  }
}

/** Records dispatched between two calls of dispatchRecords' `keepGoing`. */
const RECORDS_PER_CHECK = 32;

/** Dispatches the records in `buf[at, end)`, which the receivers may keep views of (the caller
 *  never reuses `buf`). `input`: the messages whose on_message calls produced them (InputSlice
 *  records name bytes of them). After every RECORDS_PER_CHECK records `keepGoing` may stop
 *  it: returns where it stopped (`end` when all were dispatched). */
export function dispatchRecords(
  buf: Buffer,
  at: number,
  end: number,
  lookup: TargetLookup,
  orphanLog?: OrphanLog,
  keepGoing?: () => boolean,
  input?: CallInput,
): number {
  let count = 0;
  while (at + RECORD_HEADER_SIZE <= end) {
    if (keepGoing !== undefined && ++count % RECORDS_PER_CHECK === 0 && !keepGoing()) return at;
    const token = u32(buf, at);
    const type = u32(buf, at + 4) as RecordType;
    const length = u32(buf, at + 8);
    const start = at + RECORD_HEADER_SIZE;
    at = start + length;
    const target = lookup(token);
    if (type === RecordType.Log) {
      const line = parseLogRecord(buf.subarray(start, at));
      if (target !== undefined) target.pluginLog(line);
      else orphanLog?.(line);
      continue;
    }
    if (target === undefined) continue;
    if (type === RecordType.Disconnected) {
      target.disconnected();
      continue;
    }
    if (type === RecordType.Frames) {
      target.deliverFrames(buf.subarray(start + 4, at), u32(buf, start));
      continue;
    }
    if (type === RecordType.InputSlice) {
      // The helper makes these only in calls whose input the pump passes here.
      if (input === undefined) throw new Error('native helper: an input slice record without its input');
      target.deliver(u32(buf, start) as RecordType, input.slice(u32(buf, start + 4), u32(buf, start + 8)));
      continue;
    }
    target.deliver(type, buf.subarray(start, at));
  }
  return end;
}
