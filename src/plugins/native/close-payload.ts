// What a plugin's send(MESSAGE_TYPE_CLOSE, buf, n) becomes. Under Apache `buf` went on the wire as
// the close payload whatever it held; wsgate sends it when it is a valid one and otherwise the
// closest valid close, so no client ever sees a malformed close frame (it would fail with 1002).
import { isUtf8 } from 'node:buffer';
import { CloseCode, isValidCloseCode } from '../../protocol/close-codes.js';

/** Bytes of the payload the helper queues (WSG_CLOSE_KEEP in wsgate_native.c): 125, plus one that
 *  shows the plugin's payload was longer and where the reason's cut falls. */
export const CLOSE_PAYLOAD_KEEP = 126;
/** A close frame carries at most 125 bytes: the 2-byte code and up to 123 of reason. */
const MAX_REASON_BYTES = 123;
/** The reason sent with 1011 when the plugin's payload cannot be repaired. */
export const INVALID_CLOSE_REASON = 'plugin sent an invalid close';

export interface PluginClose {
  /** undefined: a close frame without payload (the peer sees 1005). */
  code: number | undefined;
  reason: string;
  /** Set when the payload was not sent as given: what was wrong and what was sent instead. */
  problem?: string;
}

/** The close to send for a plugin's close payload (as queued by the helper, at most 126 bytes).
 *  Empty → no code (1005, like close()); 1 byte or a code that may not be sent → 1011; a reason
 *  over 123 bytes → cut at a character boundary; a reason that is not UTF-8 → dropped. */
export function pluginClose(payload: Buffer): PluginClose {
  if (payload.length === 0) return { code: undefined, reason: '' };
  if (payload.length === 1) {
    return { code: CloseCode.InternalError, reason: INVALID_CLOSE_REASON, problem: 'a 1-byte close payload (a close code needs 2): closing with 1011' };
  }
  const code = payload.readUInt16BE(0);
  if (!isValidCloseCode(code)) {
    return { code: CloseCode.InternalError, reason: INVALID_CLOSE_REASON, problem: `close code ${code}, which may not be sent: closing with 1011` };
  }
  let reason = payload.subarray(2);
  let problem: string | undefined;
  if (reason.length > MAX_REASON_BYTES) {
    // Back off over continuation bytes (10xxxxxx) to the start of the character the cut falls in.
    let end = MAX_REASON_BYTES;
    while (end > 0 && (reason[end]! & 0xc0) === 0x80) end--;
    reason = reason.subarray(0, end);
    problem = `a close payload over 125 bytes: reason cut to ${end} bytes`;
  }
  if (!isUtf8(reason)) return { code, reason: '', problem: `a close reason that is not valid UTF-8: sending code ${code} without it` };
  return problem === undefined ? { code, reason: reason.toString('utf8') } : { code, reason: reason.toString('utf8'), problem };
}
