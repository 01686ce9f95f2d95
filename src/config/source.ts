// Physical file text → Apache's logical text: a `\` right before a line end joins the next
// physical line (CR LF accepted), exactly as httpd's config reader does. Offsets in the logical
// text map back to physical line:column so every diagnostic points into the real file.
import type { SourceLocation } from '../errors.js';

export interface LogicalSource {
  file: string;
  /** Logical lines joined with '\n'; always ends with '\n'. */
  text: string;
  locate(offset: number): SourceLocation;
}

export function toLogicalSource(raw: string, file: string): LogicalSource {
  const input = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
  const physical = input.split('\n');
  const endsWithNewline = physical.length > 1 && physical[physical.length - 1] === '';
  if (endsWithNewline) physical.pop();
  // segmentStart[i] = logical offset where physical line i+1 begins.
  const segmentStart = new Array<number>(physical.length);
  let text = '';
  let length = 0;
  for (let i = 0; i < physical.length; i++) {
    let line = physical[i] ?? '';
    if (line.endsWith('\r')) line = line.slice(0, -1);
    segmentStart[i] = length;
    // httpd also drops a `\` on the last line when a newline follows it.
    const continued = line.endsWith('\\') && (i + 1 < physical.length || endsWithNewline);
    const piece = continued ? line.slice(0, -1) : `${line}\n`;
    text += piece;
    length += piece.length;
  }
  if (!text.endsWith('\n')) {
    text += '\n';
    length += 1;
  }
  const locate = (offset: number): SourceLocation => {
    let lo = 0;
    let hi = segmentStart.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((segmentStart[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file, line: lo + 1, column: offset - (segmentStart[lo] ?? 0) + 1 };
  };
  return { file, text, locate };
}

/** Longest logical line (after joining `\` continuations): also bounds every token and argument. */
export const maxLogicalLineChars = 1024 * 1024;

/** Where the first logical line longer than `max` starts (1-based line), or undefined. Linear
 *  and allocation-free, so a huge or hostile file is refused before it is split and lexed. */
export function findOverlongLine(raw: string, max = maxLogicalLineChars): { line: number; length: number } | undefined {
  let start = 0; // of the current physical line
  let logicalStartLine = 1;
  let logicalLength = 0;
  let line = 1;
  while (start <= raw.length) {
    const lf = raw.indexOf('\n', start);
    const end = lf < 0 ? raw.length : lf;
    let content = end - start;
    if (content > 0 && raw.charCodeAt(end - 1) === 0x0d) content -= 1;
    const continued = content > 0 && raw.charCodeAt(start + content - 1) === 0x5c; // '\'
    logicalLength += continued ? content - 1 : content;
    if (logicalLength > max) return { line: logicalStartLine, length: logicalLength };
    if (lf < 0) break;
    line += 1;
    if (!continued) {
      logicalLength = 0;
      logicalStartLine = line;
    }
    start = lf + 1;
  }
  return undefined;
}
