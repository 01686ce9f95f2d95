// Chevrotain grammar of ONE logical line. Lines are parsed one at a time, so a broken line
// yields its own error and parsing resumes at the next line: every error of a file is reported.
import type { IToken } from 'chevrotain';
import { EmbeddedActionsParser } from './chevrotain.js';
import { CloseTag, Gt, Name, OpenTag, Quoted, SectionWord, Word, modes } from './tokens.js';

export type LineKind = 'directive' | 'open' | 'close';

export interface ParsedLine {
  kind: LineKind;
  /** The directive name or the `<Name` / `</Name` token. */
  head: IToken;
  args: IToken[];
  /** The closing `>` of a section line (undefined when missing: a parse error was recorded). */
  gt: IToken | undefined;
  /** Section lines: text after the closing `>` (Apache ignores it). */
  trailing: IToken[];
}

export class LineParser extends EmbeddedActionsParser {
  /** validate: run chevrotain's grammar checks (ambiguities, left recursion…). The grammar is fixed,
   *  so test/config/grammar-definition.test.ts runs them, not every start of check/serve. */
  constructor({ validate = false }: { validate?: boolean } = {}) {
    super(Object.values(modes).flat(), { recoveryEnabled: false, maxLookahead: 1, skipValidations: !validate });
    this.performSelfAnalysis();
  }

  readonly line = this.RULE('line', (): ParsedLine | undefined =>
    this.OR([
      { ALT: () => this.SUBRULE(this.directive) },
      { ALT: () => this.SUBRULE(this.section) },
    ]),
  );

  private readonly directive = this.RULE('directive', (): ParsedLine => {
    const head = this.CONSUME(Name);
    const args: IToken[] = [];
    this.MANY(() => args.push(this.OR([{ ALT: () => this.CONSUME(Word) }, { ALT: () => this.CONSUME(Quoted) }])));
    return { kind: 'directive', head, args, gt: undefined, trailing: [] };
  });

  private readonly section = this.RULE('section', (): ParsedLine => {
    const head = this.OR([{ ALT: () => this.CONSUME(OpenTag) }, { ALT: () => this.CONSUME(CloseTag) }]);
    const args = this.SUBRULE(this.sectionArgs);
    const gt = this.CONSUME(Gt);
    const trailing = this.SUBRULE2(this.sectionArgs);
    return { kind: head.tokenType === CloseTag ? 'close' : 'open', head, args, gt, trailing };
  });

  private readonly sectionArgs = this.RULE('sectionArgs', (): IToken[] => {
    const args: IToken[] = [];
    this.MANY(() => args.push(this.OR([{ ALT: () => this.CONSUME(SectionWord) }, { ALT: () => this.CONSUME(Quoted) }])));
    return args;
  });
}

const parser = new LineParser();

export interface LineParseResult {
  line: ParsedLine | undefined;
  /** Offset where the parser expected something it did not find, and what it expected. */
  error: { offset: number; expected: string } | undefined;
}

/** Parses one line's tokens (no line-end or comment tokens). */
export function parseLine(tokens: IToken[], endOffset: number): LineParseResult {
  parser.input = tokens;
  const line = parser.line();
  const err = parser.errors[0];
  if (err === undefined) return { line, error: undefined };
  // The only way a line fails is a section tag without its closing `>`.
  const head = tokens[0];
  const offset = Number.isNaN(err.token.startOffset) ? endOffset : err.token.startOffset;
  const partial: ParsedLine | undefined =
    head && (head.tokenType === OpenTag || head.tokenType === CloseTag)
      ? { kind: head.tokenType === CloseTag ? 'close' : 'open', head, args: tokens.slice(1), gt: undefined, trailing: [] }
      : undefined;
  return { line: partial, error: { offset, expected: "'>'" } };
}
