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
}

export const RECORD_HEADER_SIZE = 12;

/** Receives one connection's records, in the order the plugin queued them. */
export interface RecordTarget {
  /** `payload` is owned by the receiver (never reused). */
  deliver(type: RecordType, payload: Buffer): void;
  disconnected(): void;
}

export type TargetLookup = (token: number) => RecordTarget | undefined;

/** Dispatches the records in `buf[0, used)`. With `owned`, payloads are views of buf (not reused by
 *  the caller); otherwise buf is the reused scratch buffer, and the batch is copied out once so that
 *  its payloads can be views of the copy (one allocation and copy per batch, not per message). */
export function dispatchRecords(scratch: Buffer, used: number, owned: boolean, lookup: TargetLookup): void {
  const buf = owned ? scratch : Buffer.from(scratch.subarray(0, used));
  let at = 0;
  while (at + RECORD_HEADER_SIZE <= used) {
    const token = buf.readUInt32LE(at);
    const type = buf.readUInt32LE(at + 4) as RecordType;
    const length = buf.readUInt32LE(at + 8);
    const start = at + RECORD_HEADER_SIZE;
    at = start + length;
    const target = lookup(token);
    if (target === undefined) continue;
    if (type === RecordType.Disconnected) {
      target.disconnected();
      continue;
    }
    target.deliver(type, buf.subarray(start, at));
  }
}
