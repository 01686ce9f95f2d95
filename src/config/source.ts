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
