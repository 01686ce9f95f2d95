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
  /** A send of bytes inside the message on_message was handling: u32 type, u32 offset, u32 length
   *  into that message's buffer (the `input` of dispatchRecords), delivered without a copy. */
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

/** Records dispatched between two calls of dispatchRecords' `keepGoing`. */
const RECORDS_PER_CHECK = 32;

/** Dispatches the records in `buf[at, end)`, which the receivers may keep views of (the caller
 *  never reuses `buf`). `input`: the message whose on_message produced them (InputSlice records
 *  are views of it). After every RECORDS_PER_CHECK records `keepGoing` may stop
 *  it: returns where it stopped (`end` when all were dispatched). */
export function dispatchRecords(
  buf: Buffer,
  at: number,
  end: number,
  lookup: TargetLookup,
  orphanLog?: OrphanLog,
  keepGoing?: () => boolean,
  input?: Buffer,
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
      const offset = u32(buf, start + 4);
      target.deliver(u32(buf, start) as RecordType, input.subarray(offset, offset + u32(buf, start + 8)));
      continue;
    }
    target.deliver(type, buf.subarray(start, at));
  }
  return end;
}
