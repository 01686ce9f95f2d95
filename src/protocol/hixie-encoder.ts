// draft-hixie-75/76 server frames.
//
// Binary data: neither draft has a binary frame a browser delivers (length-prefixed frames are
// discarded by the receiver), and mod_websocket's draft-76 module sent nothing for binary data.
// So message(data, true) returns [] — nothing to write — and the caller may log the drop.
// Text containing 0xFF would end the frame early and let the rest be read as new frames, so it
// is refused (WsgateError USAGE); valid UTF-8 never contains 0xFF.
// close() is the draft-76 closing frame 0xFF 0x00; a draft-75 client reads it as an empty,
// discarded frame, so it is harmless there. There is no ping or pong.
import { usageError } from './errors.js';
import type { Encoder } from './types.js';

const MERGE_LIMIT = 1024;
const FRAME_START = Buffer.from([0x00]);
const FRAME_END = Buffer.from([0xff]);
const CLOSING_FRAME = Buffer.from([0xff, 0x00]);

function textFrame(data: Buffer): Buffer[] {
  if (data.includes(0xff)) throw usageError('hixie text frame data contains the byte 0xFF');
  if (data.length > MERGE_LIMIT) return [FRAME_START, data, FRAME_END];
  const frame = Buffer.allocUnsafe(data.length + 2);
  frame[0] = 0x00;
  data.copy(frame, 1);
  frame[data.length + 1] = 0xff;
  return [frame];
}

export const hixieEncoder: Encoder = {
  message: (data, isBinary) => (isBinary ? [] : textFrame(data)),
  ping: () => undefined,
  pong: () => undefined,
  // A fresh copy each time: callers may treat the chunks they write as theirs.
  close: () => [Buffer.from(CLOSING_FRAME)],
};
