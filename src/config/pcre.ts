// Apache compiles <LocationMatch> with PCRE2; wsgate matches with JavaScript RegExp (Node 20 has
// no inline modifiers, possessive quantifiers or atomic groups). This rewrites the PCRE-only forms
// that have an exact JavaScript equivalent, and tells a pattern PCRE refuses as well ('broken':
// Apache would not start either) from valid PCRE that wsgate cannot express ('unsupported').
import { broken, characterClass, characterEscape, hspace, isLetter, literal, Stop, unsupported, vspace, type Cursor } from './pcre-chars.js';

export type PcreTranslation =
  | { kind: 'ok'; source: string; flags: string }
  | { kind: 'broken'; reason: string }
  | { kind: 'unsupported'; reason: string }
  /** Valid, but JavaScript's backtracking engine (no match limit, unlike PCRE) could take seconds or
   *  more on a hostile path: `construct` is the offending part of the pattern, `offset` where it starts. */
  | { kind: 'unsafe'; reason: string; construct: string; offset: number };

/** Longest request path a regex Location is tried on (server/router.ts): what an unbounded
 *  quantifier counts as in the cost estimate below. */
export const maxRegexPathLength = 2048;

/** Worst-case backtracking estimate allowed: the product of every quantifier's maximum repeat
 *  (maxRegexPathLength for unbounded ones). Two unbounded quantifiers (4.2 million) are fine,
 *  and take a few milliseconds; a third would cost seconds on a 2 KiB path. */
export const maxRegexCost = 10_000_000;

/** Thrown for a pattern that could stall the event loop; see quantifier(). */
class Unsafe {
  constructor(
    readonly reason: string,
    readonly construct: string,
    readonly offset: number,
  ) {}
}

/** Inline options emulated by rewriting (i: letters → [aA]; s: . → [\s\S]; m: ^ $ at line ends). */
interface Modes {
  i: boolean;
  m: boolean;
  s: boolean;
}

interface Group {
  outer: Modes;
  close: string;
  outStart: number;
  /** Where the group starts in the pattern, for naming it in an error. */
  srcStart: number;
  /** Something inside has a quantifier (even ?: (a?a?)+ splits a run of a's many ways). */
  repeats: boolean;
  /** First item of each alternative when it is one literal character, else undefined
   *  (alternatives that may start alike make a repeated group ambiguous). */
  firsts: (string | undefined)[];
  /** Items emitted in the current alternative. */
  items: number;
}

/** The last closed group, while it is still the item a quantifier would repeat. */
interface ClosedGroup {
  outStart: number;
  srcStart: number;
  repeats: boolean;
  ambiguous: boolean;
}

class Translator implements Cursor {
  private out = '';
  pos = 0;
  private modes: Modes = { i: false, m: false, s: false };
  private nativeCaseless = false;
  private readonly groups: Group[] = [];
  /** Output offset of the last repeatable item, undefined when a quantifier here has nothing to repeat. */
  private atom: number | undefined;
  /** After a quantifier: a following ? makes it lazy, + possessive; anything else may not follow. */
  private quantified: 'no' | 'greedy' | 'final' = 'no';
  private lastGroup: ClosedGroup | undefined;
  /** Product of the quantifiers' maximum repeats so far (see maxRegexCost). */
  private cost = 1;
  private emulated = 0;
  private numberedBackrefs = false;
  /** Capturing groups and their names, and the references to them (PCRE refuses dangling ones;
   *  JavaScript would silently read \k<x> as text when the pattern has no named group). */
  private captures = 0;
  private readonly names = new Set<string>();
  private readonly numberRefs: number[] = [];
  private readonly nameRefs: string[] = [];

  constructor(readonly src: string) {}

  run(): PcreTranslation {
    const lead = /^\(\?([ims]+)\)/.exec(this.src);
    if (lead) {
      const letters = lead[1] ?? '';
      this.nativeCaseless = letters.includes('i');
      this.modes = { i: false, m: letters.includes('m'), s: letters.includes('s') };
      this.pos = lead[0].length;
    }
    while (this.pos < this.src.length) this.step();
    if (this.groups.length > 0) broken('missing closing parenthesis');
    if (this.numberRefs.some((n) => n > this.captures) || this.nameRefs.some((n) => !this.names.has(n))) broken('reference to non-existent subpattern');
    if (this.numberedBackrefs && this.emulated > 0) unsupported('numbered back-references together with atomic groups or possessive quantifiers');
    return { kind: 'ok', source: this.out, flags: this.nativeCaseless ? 'i' : '' };
  }

  private peek(n = 0): string {
    return this.src[this.pos + n] ?? '';
  }

  private emitAtom(text: string, literalChar?: string): void {
    this.atom = this.out.length;
    this.quantified = 'no';
    this.out += text;
    this.noteItem(literalChar);
  }

  /** Records the first item of the current alternative of the innermost group. */
  private noteItem(literalChar: string | undefined): void {
    const group = this.groups[this.groups.length - 1];
    if (!group) return;
    if (group.items === 0) group.firsts[group.firsts.length - 1] = this.modes.i || this.nativeCaseless ? undefined : literalChar;
    group.items += 1;
  }

  private emitAssertion(text: string): void {
    this.out += text;
    this.atom = undefined;
    this.quantified = 'no';
  }

  private char(c: string): string {
    const other = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
    return this.modes.i && isLetter(c) ? `[${c}${other}]` : literal(c);
  }

  private step(): void {
    const c = this.peek();
    this.pos += 1;
    switch (c) {
      case '\\':
        return this.escape();
      case '[':
        if (/^([:.=])\^?[A-Za-z]*\1\]/.test(this.src.slice(this.pos))) broken('POSIX named classes are supported only within a class');
        return this.emitAtom(characterClass(this, this.modes.i));
      case '(':
        return this.openGroup();
      case ')':
        return this.closeGroup();
      case '*':
      case '+':
      case '?':
        return this.quantifier(c);
      case '{': {
        const q = /^(\d+)(?:(,)(\d*))?\}/.exec(this.src.slice(this.pos));
        if (!q) return this.emitAtom('\\{'); // not a quantifier: PCRE reads a literal {
        const min = Number(q[1]);
        const max = q[3] ? Number(q[3]) : min;
        if (min > 65535 || max > 65535) broken('number too big in {} quantifier');
        if (q[3] && max < min) broken('numbers out of order in {} quantifier');
        this.pos += q[0].length;
        return this.quantifier(`{${q[0]}`);
      }
      case '|': {
        const group = this.groups[this.groups.length - 1];
        if (group) {
          group.firsts.push(undefined);
          group.items = 0;
        }
        return this.emitAssertion('|');
      }
      case '^':
        return this.emitAssertion(this.modes.m ? '(?<![^\\n])' : '^');
      case '$':
        return this.emitAssertion(this.modes.m ? '(?![^\\n])' : '$');
      case '.':
        return this.emitAtom(this.modes.s ? '[\\s\\S]' : '[^\\n]');
      default:
        return this.emitAtom(this.char(c), c);
    }
  }

  /** A repeated group that itself contains a quantifier ((a+)+, (\w+/)*) or whose alternatives may
   *  start alike ((a|ab)*) can be matched many ways; on a failing subject JavaScript's engine tries
   *  them all, doubling the time per character. Refused: Apache's PCRE stops at its match limit,
   *  JavaScript has none, and one request would block the event loop for every connection. */
  private checkRepeat(q: string): void {
    const repeatsMore = !/^(?:\?|\{[01]\}|\{0?,1\}|\{[01],[01]\})$/.test(q);
    const group = this.lastGroup !== undefined && this.lastGroup.outStart === this.atom ? this.lastGroup : undefined;
    if (repeatsMore && group && (group.repeats || group.ambiguous)) {
      const construct = this.src.slice(group.srcStart, this.pos);
      const reason = group.repeats
        ? `nested quantifier '${construct}': a repeated group that itself contains a quantifier can take exponential time on a non-matching path`
        : `quantified alternation '${construct}': alternatives that can start with the same character, repeated, can take exponential time on a non-matching path`;
      throw new Unsafe(reason, construct, group.srcStart);
    }
    const max = q === '?' ? 1 : q === '*' || q === '+' ? Infinity : Number(/(\d*)\}$/.exec(q)?.[1] || Infinity);
    this.cost *= Math.min(max, maxRegexPathLength);
    if (this.cost > maxRegexCost) {
      const construct = this.src.slice(0, this.pos);
      throw new Unsafe(
        `too many repeats: up to '${construct}' a non-matching path of ${maxRegexPathLength} characters can take ${this.cost.toPrecision(2)} backtracking steps (at most ${maxRegexCost.toPrecision(2)}; a bounded repeat such as {1,64} costs 64, an unbounded one ${maxRegexPathLength})`,
        construct,
        0,
      );
    }
    const inner = this.groups[this.groups.length - 1];
    if (!inner) return;
    inner.repeats = true;
    // A quantified first item (a?b|ab) no longer tells which alternative applies.
    if (inner.items === 1) inner.firsts[inner.firsts.length - 1] = undefined;
  }

  private quantifier(q: string): void {
    if (this.quantified === 'greedy' && q === '?') {
      this.out += '?';
      this.quantified = 'final';
    } else if (this.quantified === 'greedy' && q === '+') {
      this.possessive();
    } else if (this.atom === undefined || this.quantified !== 'no') {
      broken('quantifier does not follow a repeatable item');
    } else {
      this.checkRepeat(q);
      this.out += q;
      this.quantified = 'greedy';
    }
  }

  /** X*+ ≡ (?>X*); an atomic group is a lookahead (never backtracked into) plus a back-reference. */
  private possessive(): void {
    const start = this.atom ?? this.out.length;
    const name = `wsgate_atomic${++this.emulated}`;
    this.out = `${this.out.slice(0, start)}(?:(?=(?<${name}>${this.out.slice(start)}))\\k<${name}>)`;
    this.atom = start;
    this.quantified = 'final';
  }

  private escape(): void {
    const c = this.peek();
    if (c === '') broken('\\ at end of pattern');
    this.pos += 1;
    if (/[1-9]/.test(c)) {
      const digits = /^\d*/.exec(this.src.slice(this.pos))?.[0] ?? '';
      this.pos += digits.length;
      this.numberedBackrefs = true;
      if (digits === '') this.numberRefs.push(Number(c)); // \10 and up may be octal: JavaScript reads them alike
      return this.emitAtom(`\\${c}${digits}`);
    }
    switch (c) {
      case 'b':
      case 'B':
        return this.emitAssertion(`\\${c}`);
      case 'A':
        return this.emitAssertion('(?<![\\s\\S])');
      case 'z':
        return this.emitAssertion('(?![\\s\\S])');
      case 'Z':
        return this.emitAssertion('(?=\\n?(?![\\s\\S]))');
      case 'Q':
        return this.quoted();
      case 'E':
        return; // \E without \Q is ignored
      case 'h':
        return this.emitAtom(`[${hspace}]`);
      case 'H':
        return this.emitAtom(`[^${hspace}]`);
      case 'v':
        return this.emitAtom(`[${vspace}]`);
      case 'V':
        return this.emitAtom(`[^${vspace}]`);
      case 'R':
        return this.emitAtom(`(?:\\r\\n|[${vspace}])`);
      case 'N':
        if (this.peek() === '{' && !/^\{\d+(?:,\d*)?\}/.test(this.src.slice(this.pos))) broken('\\N{name} is not supported by PCRE2 without UTF');
        return this.emitAtom('[^\\n]');
      case 'k':
      case 'g':
        return this.emitAtom(this.reference(c));
      default: {
        const item = characterEscape(this, c);
        const ch = item.code === undefined ? '' : String.fromCharCode(item.code);
        return this.emitAtom(isLetter(ch) ? this.char(ch) : item.text, ch === '' ? undefined : ch);
      }
    }
  }

  /** \k<n> \k'n' \k{n} \g{n} → \k<n>; \gN \g{N} → \N. */
  private reference(c: string): string {
    const rest = this.src.slice(this.pos);
    const named = (c === 'k' ? /^(?:<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)'|\{([A-Za-z_]\w*)\})/ : /^\{([A-Za-z_]\w*)\}/).exec(rest);
    if (named) {
      this.pos += named[0].length;
      const name = named[1] ?? named[2] ?? named[3] ?? '';
      this.nameRefs.push(name);
      return `\\k<${name}>`;
    }
    const numbered = c === 'g' ? /^(?:\{(\d+)\}|(\d+))/.exec(rest) : null;
    if (numbered) {
      this.pos += numbered[0].length;
      this.numberedBackrefs = true;
      const n = numbered[1] ?? numbered[2] ?? '';
      this.numberRefs.push(Number(n));
      return `(?:\\${n})`; // kept apart from digits that follow
    }
    return unsupported(`the reference \\${c}${rest.slice(0, 4)}…`);
  }

  private quoted(): void {
    const end = this.src.indexOf('\\E', this.pos);
    const text = this.src.slice(this.pos, end < 0 ? undefined : end);
    this.pos = end < 0 ? this.src.length : end + 2;
    for (const ch of text) this.emitAtom(this.char(ch));
  }

  private openGroup(): void {
    const rest = this.src.slice(this.pos);
    const outer = { ...this.modes };
    const srcStart = this.pos - 1;
    const push = (open: string, close: string, modes: Modes = outer): void => {
      this.noteItem(undefined);
      this.groups.push({ outer, close, outStart: this.out.length, srcStart, repeats: false, firsts: [undefined], items: 0 });
      this.out += open;
      this.modes = modes;
      this.atom = undefined;
      this.quantified = 'no';
    };
    if (rest.startsWith('*') && /^\*[A-Z:]/.test(rest)) unsupported('verbs such as (*UTF) or (*SKIP)');
    if (!rest.startsWith('?')) {
      this.captures += 1;
      return push('(', ')');
    }
    const comment = /^\?#[^)]*\)/.exec(rest);
    if (rest.startsWith('?#')) {
      if (!comment) broken('missing ) after (?# comment');
      this.pos += comment?.[0].length ?? 0;
      return;
    }
    const simple = /^\?(?::|=|!|<=|<!)/.exec(rest);
    if (simple) {
      this.pos += simple[0].length;
      return push(`(${simple[0]}`, ')');
    }
    const name = /^\?(?:P?<([^>]*)>|'([^']*)')/.exec(rest);
    if (name) {
      const id = name[1] ?? name[2] ?? '';
      if (!/^[A-Za-z_]\w*$/.test(id)) broken(`invalid group name '${id}'`);
      this.pos += name[0].length;
      this.captures += 1;
      this.names.add(id);
      return push(`(?<${id}>`, ')');
    }
    const backref = /^\?P=([A-Za-z_]\w*)\)/.exec(rest);
    if (backref) {
      this.pos += backref[0].length;
      this.nameRefs.push(backref[1] ?? '');
      return this.emitAtom(`\\k<${backref[1] ?? ''}>`);
    }
    if (rest.startsWith('?>')) {
      this.pos += 2;
      const id = `wsgate_atomic${++this.emulated}`;
      return push(`(?:(?=(?<${id}>`, `))\\k<${id}>)`);
    }
    const options = /^\?([A-Za-z]*)(?:-([A-Za-z]*))?([:)])/.exec(rest);
    if (options && (options[1] !== '' || options[2] !== undefined)) {
      this.pos += options[0].length;
      const modes = this.options(options[1] ?? '', options[2] ?? '');
      if (options[3] === ':') return push('(?:', ')', modes);
      this.modes = modes; // (?i) applies to the rest of the enclosing group
      this.atom = undefined;
      this.quantified = 'no';
      return;
    }
    if (rest.startsWith('?|')) unsupported('branch reset groups (?|…)');
    if (/^\?(?:R\)|[+-]?\d|&|P>)/.test(rest)) unsupported('recursion and subroutine calls such as (?R) or (?&name)');
    if (/^\?(?:\(|C)/.test(rest)) unsupported('conditional groups and callouts');
    return broken(`unrecognized character after (?`);
  }

  private options(on: string, off: string): Modes {
    const modes = { ...this.modes };
    for (const [letters, value] of [[on, true], [off, false]] as const) {
      for (const letter of letters) {
        if (letter === 'i' && this.nativeCaseless) {
          if (!value) unsupported('(?-i) after a leading (?i)');
        } else if (letter === 'i' || letter === 'm' || letter === 's') modes[letter] = value;
        else if ('nxUJ'.includes(letter)) unsupported(`the (?${letter}) option`);
        else broken(`unrecognized character after (? or (?-`);
      }
    }
    return modes;
  }

  private closeGroup(): void {
    const group = this.groups.pop();
    if (!group) broken('unmatched closing parenthesis');
    this.out += group?.close ?? '';
    this.modes = group?.outer ?? this.modes;
    this.atom = group?.outStart;
    this.quantified = 'no';
    if (!group) return;
    const firsts = group.firsts;
    const ambiguous = firsts.length > 1 && (firsts.some((f) => f === undefined) || new Set(firsts).size < firsts.length);
    this.lastGroup = { outStart: group.outStart, srcStart: group.srcStart, repeats: group.repeats, ambiguous };
    // What a group repeats, its enclosing group repeats too.
    const parent = this.groups[this.groups.length - 1];
    if (group.repeats && parent) parent.repeats = true;
  }
}

export function translatePcre(source: string): PcreTranslation {
  try {
    return new Translator(source).run();
  } catch (err) {
    if (err instanceof Stop) return { kind: err.kind, reason: err.reason };
    if (err instanceof Unsafe) return { kind: 'unsafe', reason: err.reason, construct: err.construct, offset: err.offset };
    throw err;
  }
}
