// Chevrotain tokens for httpd.conf logical lines (continuations already joined, see source.ts).
// Three lexer modes because Apache reads a line differently depending on how it starts:
//  - start:     a `#` as the first non-blank character makes the whole line a comment;
//               `<Name` opens a section, `</Name` closes one, anything else is a directive name.
//  - directive: arguments; `#`, `<` and `>` are ordinary argument characters.
//  - section:   arguments of a section line; the LAST `>` on the line closes the tag (httpd looks
//               for the last `>`), text after it is ignored by Apache.
import type { TokenType } from 'chevrotain';
import { createToken, Lexer } from './chevrotain.js';

export const Blank = createToken({ name: 'Blank', pattern: /[ \t\f\v\r]+/, group: Lexer.SKIPPED });
export const LineEnd = createToken({ name: 'LineEnd', pattern: /\n/, line_breaks: true });
export const ArgsEnd = createToken({ name: 'ArgsEnd', pattern: /\n/, line_breaks: true, pop_mode: true });
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/ });
export const CloseTag = createToken({ name: 'CloseTag', pattern: /<\/[^\s>]*/, push_mode: 'section' });
export const OpenTag = createToken({ name: 'OpenTag', pattern: /<[^\s>]*/, push_mode: 'section' });
export const Name = createToken({ name: 'Name', pattern: /\S+/, push_mode: 'directive' });
// A quoted argument ends at the matching unescaped quote; an unterminated one runs to the line end
// (Apache accepts that; the parser warns).
export const Quoted = createToken({ name: 'Quoted', pattern: /"(?:[^"\\\n]|\\[^\n])*"?|'(?:[^'\\\n]|\\[^\n])*'?/ });
export const Word = createToken({ name: 'Word', pattern: /[^\s"'][^\s]*/ });
export const Gt = createToken({ name: 'Gt', pattern: />(?=[^>\n]*\n)/, start_chars_hint: ['>'] });
// Any non-blank run, where `>` counts as text unless it is the line's last one.
export const SectionWord = createToken({
  name: 'SectionWord',
  pattern: /(?:[^\s"'>]|>(?=[^\n>]*>))(?:[^\s>]|>(?=[^\n>]*>))*/,
  // Everything but blanks, quotes and (usually) `>`; listing the hint keeps Chevrotain's fast path.
  start_chars_hint: [...'!#$%&()*+,-./0123456789:;<=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~>'],
});

export const modes: Record<string, TokenType[]> = {
  start: [LineEnd, Blank, Comment, CloseTag, OpenTag, Name],
  directive: [ArgsEnd, Blank, Quoted, Word],
  section: [ArgsEnd, Blank, Quoted, Gt, SectionWord],
};

/** Chevrotain's checks of the token set (patterns that match nothing or the empty string…) take
 *  longer than building the lexer; the tokens are fixed, so test/config/grammar-definition.test.ts
 *  runs them, not every start of check/serve. */
export const lexerConfig = { positionTracking: 'onlyOffset', ensureOptimizations: false } as const;

export const configLexer = new Lexer({ modes, defaultMode: 'start' }, { ...lexerConfig, skipValidations: true });
