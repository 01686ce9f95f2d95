// Line ranges of sections in the physical files, for replacing them in place. The tree knows where a
// section opens; its closing line is found by counting nested sections of the same name.
import { readFileSync } from 'node:fs';
import type { SourceLocation } from '../../config/model.js';

export interface LineRange {
  file: string;
  /** 1-based, inclusive. */
  first: number;
  last: number;
}

export class FileCache {
  private readonly lines = new Map<string, string[]>();

  get(file: string): string[] {
    let lines = this.lines.get(file);
    if (!lines) {
      lines = readFileSync(file, 'utf8').split('\n');
      this.lines.set(file, lines);
    }
    return lines;
  }
}

/** The range from `<Name …` at `loc` to its `</Name>`; the last line of the file when unclosed. */
export function sectionRange(files: FileCache, loc: SourceLocation, name: string): LineRange {
  const lines = files.get(loc.file);
  const open = new RegExp(`^\\s*<${name}[\\s>]`, 'i');
  const close = new RegExp(`^\\s*</${name}\\s*>`, 'i');
  let depth = 0;
  for (let i = loc.line - 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (open.test(line)) depth++;
    else if (close.test(line) && --depth === 0) return { file: loc.file, first: loc.line, last: i + 1 };
  }
  return { file: loc.file, first: loc.line, last: lines.length };
}
