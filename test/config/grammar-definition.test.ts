// The config lexer and line parser are built without chevrotain's definition checks at run time
// (they cost start-up time on every `check`/`serve`, and the grammar is fixed). Here they run: a
// token pattern that can never match, an ambiguous alternative or a left recursion fails this test.
import { describe, expect, it } from 'vitest';
import { createToken, Lexer } from '../../src/config/chevrotain.js';
import { LineParser } from '../../src/config/grammar.js';
import { lexerConfig, modes } from '../../src/config/tokens.js';

describe('config grammar definition', () => {
  it('the lexer modes pass chevrotain’s lexer validations', () => {
    const lexer = new Lexer({ modes, defaultMode: 'start' }, { ...lexerConfig, skipValidations: false });
    expect(lexer.lexerDefinitionErrors).toEqual([]);
  });

  it('the line grammar passes chevrotain’s grammar validations', () => {
    expect(() => new LineParser({ validate: true })).not.toThrow();
  });

  it('the validations run (a grammar error is reported, not skipped)', () => {
    const matchesNothing = createToken({ name: 'MatchesNothing', pattern: /x*/ }); // may match the empty string
    const broken = { ...modes, start: [...modes.start!, matchesNothing] };
    const lexer = new Lexer({ modes: broken, defaultMode: 'start' }, { ...lexerConfig, skipValidations: false, deferDefinitionErrorsHandling: true });
    expect(lexer.lexerDefinitionErrors.length).toBeGreaterThan(0);
  });
});
