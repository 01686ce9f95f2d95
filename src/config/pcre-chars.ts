// PCRE2 character-level syntax → JavaScript source, for pcre.ts: escapes that stand for one
// character or a set, and [...] classes (POSIX names, \Q…\E, letters of both cases under an
// emulated (?i)). PCRE2 is read as Apache uses it: 8-bit, not UTF.

export class Stop extends Error {
  constructor(
    readonly kind: 'broken' | 'unsupported',
    readonly reason: string,
  ) {
    super(reason);
  }
}
/** PCRE refuses the pattern as well. */
export const broken = (reason: string): never => {
  throw new Stop('broken', reason);
};
/** Valid PCRE with no JavaScript equivalent here. */
export const unsupported = (reason: string): never => {
  throw new Stop('unsupported', reason);
};

/** The pattern and the offset of the next character to read. */
export interface Cursor {
  readonly src: string;
  pos: number;
}

export interface CharItem {
  text: string;
  /** Set when the item is one character (it can then end a range, or change case). */
  code?: number;
}

const posixClasses: Record<string, string> = {
  alpha: 'a-zA-Z', digit: '0-9', alnum: 'a-zA-Z0-9', upper: 'A-Z', lower: 'a-z', space: '\\t\\n\\x0b\\f\\r ', blank: '\\t ',
  punct: '!-\\/:-@\\[-`{-~', xdigit: '0-9A-Fa-f', word: '\\w', cntrl: '\\x00-\\x1f\\x7f', print: ' -~', graph: '!-~', ascii: '\\x00-\\x7f',
};
export const hspace = '\\t \\xa0';
export const vspace = '\\n\\x0b\\f\\r\\x85';
const hex2 = (code: number): string => `\\x${code.toString(16).padStart(2, '0')}`;
export const isLetter = (c: string): boolean => /^[A-Za-z]$/.test(c);
/** A literal character as JavaScript source, inside or outside a class. */
export const literal = (c: string): string => (/[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c);
const rest = (cur: Cursor): string => cur.src.slice(cur.pos);
const codeItem = (value: number): CharItem => ({ text: hex2(value), code: value });

/** After a backslash (consumed, as is `c`): an escape that stands for one character or a class
 *  escape (\d…), valid outside and inside [...]. */
export function characterEscape(cur: Cursor, c: string): CharItem {
  if ('dDwWsS'.includes(c)) return { text: `\\${c}` };
  const fixed: Record<string, number> = { n: 10, r: 13, t: 9, f: 12, a: 7, e: 27 };
  const known = fixed[c];
  if (known !== undefined) return codeItem(known);
  if (c === '0') {
    const digits = /^[0-7]{0,2}/.exec(rest(cur))?.[0] ?? '';
    cur.pos += digits.length;
    return codeItem(parseInt(`0${digits}`, 8));
  }
  if (c === 'x' || c === 'o') {
    const braced = /^\{([0-9A-Fa-f]+)\}/.exec(rest(cur));
    if (c === 'o' && !braced) broken('missing opening brace after \\o');
    // \x takes up to two hex digits (JavaScript's \x needs exactly two).
    const text = braced ? braced[1] ?? '' : /^[0-9A-Fa-f]{0,2}/.exec(rest(cur))?.[0] ?? '';
    cur.pos += braced ? braced[0].length : text.length;
    const value = text === '' ? 0 : parseInt(text, c === 'x' ? 16 : 8);
    if (value > 0xff) broken(`character code point value in \\${c}{} is too large`);
    return codeItem(value);
  }
  if (c === 'c') {
    const next = cur.src[cur.pos] ?? '';
    if (!/^[\x20-\x7e]$/.test(next)) broken('\\c must be followed by a printable ASCII character');
    cur.pos += 1;
    return codeItem(next.toUpperCase().charCodeAt(0) ^ 0x40);
  }
  if ('GKXCpP'.includes(c)) unsupported(`the escape \\${c}`);
  // JavaScript would read an unknown letter escape as the letter; PCRE2 refuses it.
  if (/[A-Za-z0-9]/.test(c)) broken(`unrecognized escape \\${c}`);
  return { text: literal(c), code: c.charCodeAt(0) };
}

/** After the opening [ (consumed): the whole class, as JavaScript source. */
export function characterClass(cur: Cursor, caseless: boolean): string {
  const negated = cur.src[cur.pos] === '^';
  if (negated) cur.pos += 1;
  let body = '';
  const ranges: [number, number][] = [];
  // A ] right after [ or [^ is a member.
  for (let first = true; first || cur.src[cur.pos] !== ']'; first = false) {
    const a = classItem(cur, caseless);
    if (a === undefined) continue;
    // a-b is a range unless the - is the class's last character.
    const next = cur.src[cur.pos + 1];
    if (cur.src[cur.pos] === '-' && next !== ']' && next !== undefined) {
      cur.pos += 1;
      const b = classItem(cur, caseless);
      if (a.code === undefined || b?.code === undefined) return broken('invalid range in character class');
      if (b.code < a.code) broken('range out of order in character class');
      body += `${a.text}-${b.text}`;
      ranges.push([a.code, b.code]);
    } else {
      body += a.text;
      if (a.code !== undefined) ranges.push([a.code, a.code]);
    }
  }
  cur.pos += 1;
  return `[${negated ? '^' : ''}${body}${caseless ? otherCase(ranges) : ''}]`;
}

/** One member of a class; undefined for a lone \E. */
function classItem(cur: Cursor, caseless: boolean): CharItem | undefined {
  const c = cur.src[cur.pos] ?? '';
  if (c === '') broken('missing terminating ] for character class');
  cur.pos += 1;
  if (c === '[') return posix(cur);
  if (c !== '\\') return { text: literal(c), code: c.charCodeAt(0) };
  const e = cur.src[cur.pos] ?? '';
  if (e === '') broken('\\ at end of pattern');
  cur.pos += 1;
  if (e === 'E') return undefined;
  if (e === 'Q') {
    // \Q…\E inside a class: its characters are members (not range ends).
    const end = cur.src.indexOf('\\E', cur.pos);
    const text = [...cur.src.slice(cur.pos, end < 0 ? undefined : end)];
    cur.pos = end < 0 ? cur.src.length : end + 2;
    return { text: text.map(literal).join('') + (caseless ? otherCase(text.map((ch) => [ch.charCodeAt(0), ch.charCodeAt(0)])) : '') };
  }
  if (e === 'b') return codeItem(8);
  if (e === 'h') return { text: hspace };
  if (e === 'v') return { text: vspace };
  if (e === 'g') return { text: 'g', code: 103 }; // PCRE2 reads \g in a class as g
  if ('kzABCGKNRXZ'.includes(e)) broken('escape sequence is invalid in character class');
  if (e === 'H' || e === 'V') unsupported(`\\${e} inside [...]`);
  if (/[1-7]/.test(e)) {
    // Inside a class \1… is an octal character, not a back-reference.
    const digits = /^[0-7]{0,2}/.exec(rest(cur))?.[0] ?? '';
    cur.pos += digits.length;
    return codeItem(parseInt(e + digits, 8));
  }
  return characterEscape(cur, e);
}

/** [:name:] inside a class (the leading [ is consumed); otherwise a plain [. */
function posix(cur: Cursor): CharItem {
  const m = /^([:.=])(\^?)([A-Za-z]*)\1\]/.exec(rest(cur));
  if (!m) return { text: '\\[', code: 91 };
  if (m[1] !== ':') broken('POSIX collating elements are not supported');
  const name = m[3] ?? '';
  const set = posixClasses[name];
  if (set === undefined) return broken(`unknown POSIX class name [:${name}:]`);
  if (m[2]) unsupported(`the negated POSIX class [:^${name}:]`);
  cur.pos += m[0].length;
  return { text: set };
}

/** The other case of every ASCII letter in `ranges`, as class members. */
function otherCase(ranges: readonly [number, number][]): string {
  let extra = '';
  for (const [lo, hi] of ranges) {
    for (const [a, z, shift] of [[65, 90, 32], [97, 122, -32]] as const) {
      const from = Math.max(lo, a);
      const to = Math.min(hi, z);
      if (from > to) continue;
      extra += from === to ? literal(String.fromCharCode(from + shift)) : `${String.fromCharCode(from + shift)}-${String.fromCharCode(to + shift)}`;
    }
  }
  return extra;
}
