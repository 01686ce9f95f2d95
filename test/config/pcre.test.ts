// PCRE → JavaScript RegExp translation. Where `grep -P` (PCRE2, as Apache uses) is available,
// every translated pattern must match exactly the same subjects as PCRE itself, and every pattern
// called 'broken' must be refused by PCRE too while every 'unsupported' one is valid PCRE.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { translatePcre } from '../../src/config/pcre.js';
import { tempTree } from './helpers.js';

const grepHasPcre = spawnSync('grep', ['-P', 'x'], { input: 'x\n', env: { ...process.env, LC_ALL: 'C' } }).status === 0;

/** Subjects (one line each) that PCRE matches, as grep -P reports them; or 'error'. */
let scratch: string | undefined;
function pcreMatches(pattern: string, subjects: readonly string[]): boolean[] | 'error' {
  const file = join((scratch ??= tempTree({})), 'subjects.txt');
  writeFileSync(file, `${subjects.join('\n')}\n`);
  const run = spawnSync('grep', ['-nP', '--', pattern, file], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  if (run.status === 2) return 'error';
  const lines = new Set(run.stdout.split('\n').filter((l) => l !== '').map((l) => Number(l.split(':')[0])));
  return subjects.map((_, i) => lines.has(i + 1));
}

/** What location-match.ts does with a pattern: broken, unsupported, or a RegExp. */
function verdict(pattern: string): 'broken' | 'unsupported' | 'unsafe' | RegExp {
  const t = translatePcre(pattern);
  if (t.kind !== 'ok') return t.kind;
  try {
    return new RegExp(t.source, t.flags);
  } catch {
    return 'unsupported';
  }
}

const translated: { pattern: string; subjects: string[] }[] = [
  { pattern: '^/a++b', subjects: ['/aab', '/ab', '/b', '/aa'] },
  { pattern: '^/a++a', subjects: ['/aa', '/aaa'] }, // possessive: never gives an a back
  { pattern: 'x{2,3}+x', subjects: ['xxxx', 'xxx'] },
  { pattern: '^/(?i:echo)/x', subjects: ['/ECHO/x', '/Echo/x', '/echo/X'] },
  { pattern: '^/x(?i:y(?-i)z)', subjects: ['/xYz', '/xYZ', '/Xyz'] },
  { pattern: '^/a(?i)b|c', subjects: ['/ab', '/aB', '/AB', 'C', 'c'] }, // (?i) reaches the next alternative
  { pattern: '^/(?i:[a-c_])+$', subjects: ['/AbC_', '/abd', '/ABD'] },
  { pattern: '(?i)^/ROOM/[a-z]+$', subjects: ['/room/abc', '/ROOM/ABC', '/room/1'] },
  { pattern: '^/(?>a+|b)c', subjects: ['/aac', '/bc', '/c'] },
  { pattern: '^/(?>a*)a', subjects: ['/aa', '/a'] },
  { pattern: '^/[[:alpha:]]+[[:digit:]]{2}$', subjects: ['/ab12', '/a1', '/AB99', '/1212'] },
  { pattern: '^/[^[:space:]x]+$', subjects: ['/ab', '/a b', '/ax'] },
  { pattern: '^/\\Qa.b*\\E$', subjects: ['/a.b*', '/aXb*', '/a.bb'] },
  { pattern: '\\A/x\\z', subjects: ['/x', '/xy', 'a/x'] },
  { pattern: '^/(?P<n>ab)(?P=n)$', subjects: ['/abab', '/abba'] },
  { pattern: "^/(?'n'a)\\k{n}\\g{n}$", subjects: ['/aaa', '/aa'] },
  { pattern: '^/(a)\\1$', subjects: ['/aa', '/ab'] },
  { pattern: '^/\\x41\\x{42}\\o{103}$', subjects: ['/ABC', '/abc'] },
  { pattern: '^a\\hb$', subjects: ['a b', 'a\tb', 'ab'] },
  { pattern: '^/a.c$', subjects: ['/abc', '/a\tc', '/ac'] },
  { pattern: 'x(?#a comment)y', subjects: ['xy', 'x(?#a comment)y'] },
  { pattern: '^/[]a]+$', subjects: ['/]a', '/b'] },
  { pattern: '^/a{,3}$', subjects: ['/a{,3}', '/aaa'] }, // PCRE2 10.42: a literal {,3}
];

const brokenPatterns = ['(', 'a)', '[a', '*a', 'a**', 'a{2}{3}', 'a*?+', '\\i', '[[:foo:]]', 'a{2,1}', '(?i', 'a|*b', '^*', '\\b*', '[\\d-z]', 'a{70000}', '[[.a.]]', '(?<1a>x)', '\\x{100}', '\\N{U+41}', 'x\\z+', 'a(?i)*', '[z-a]', '(?#x'];
const unsupportedPatterns = ['(?|a|b)', '(?<=a)*', '(?x) a b', '\\p{L}', '(a)\\g{-1}', '(?<n>a)(?&n)', '(*UTF)a', '[[:^alpha:]x]', '(a)(?>b)\\1', 'a\\Kb', '(a)?(?(1)b|c)'];

describe('PCRE translation', () => {
  test.each(translated)('$pattern matches what it matches in PCRE', ({ pattern, subjects }) => {
    const regex = verdict(pattern);
    expect(regex).toBeInstanceOf(RegExp);
    const ours = subjects.map((s) => (regex as RegExp).test(s));
    if (grepHasPcre) expect(ours).toEqual(pcreMatches(pattern, subjects));
  });

  test('exact rewrites: possessive and atomic via lookahead + back-reference, inline case by letter sets', () => {
    expect(translatePcre('^/a++b')).toEqual({ kind: 'ok', source: '^\\/(?:(?=(?<wsgate_atomic1>a+))\\k<wsgate_atomic1>)b', flags: '' });
    expect(translatePcre('(?i:a[b-c])')).toEqual({ kind: 'ok', source: '(?:[aA][b-cB-C])', flags: '' });
    expect(translatePcre('(?i)^/x')).toEqual({ kind: 'ok', source: '^\\/x', flags: 'i' });
  });

  test('(?s) and (?m) are emulated (JavaScript has the flags, but not per group)', () => {
    const re = (p: string) => verdict(p) as RegExp;
    expect([re('a.b').test('a\nb'), re('(?s)a.b').test('a\nb'), re('x(?s:a.b)').test('xa\nb')]).toEqual([false, true, true]);
    expect([re('^b$').test('a\nb'), re('(?m)^b$').test('a\nb\nc')]).toEqual([false, true]);
  });

  test('random patterns from PCRE syntax pieces: the same verdict and the same matches as PCRE', () => {
    let seed = 2024;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const pieces = ['a', 'b', 'A', '/', '.', '*', '+', '?', '{2}', '{1,3}', '{,2}', '{', '}', '(', ')', '(?:', '(?i)', '(?i:', '(?-i)', '(?s)', '(?m)', '(?>', '(?=', '(?<=', '(?P<n>', '\\k<n>', '\\g{n}', '\\1', '[', ']', '[^', '[a-c]', '-', '[:alpha:]', '[[:digit:]]', '\\', '\\d', '\\w', '\\Q', '\\E', '\\A', '\\z', '\\x41', '\\h', '\\N', '\\0', '|', '^', '$', 'x++', '\\b', '#', '(?#c)'];
    const subjects = ['', '/', 'a', 'A', 'ab', 'aab', '/a/b', 'aA', 'x', 'xx', 'a{2}', 'a.b', '/AB', 'a-b', '\\', 'aaa', '[', ']', 'b*a', ' a', 'a\tb', '#', '{', '}'];
    const disagreements: string[] = [];
    for (let i = 0; i < (grepHasPcre ? 300 : 0); i++) {
      let pattern = '';
      for (let n = 1 + Math.floor(next() * 7); n > 0; n--) pattern += pieces[Math.floor(next() * pieces.length)];
      const ours = verdict(pattern);
      const pcre = pcreMatches(pattern, subjects);
      const agree =
        ours === 'broken' ? pcre === 'error' : ours === 'unsupported' || ours === 'unsafe' ? pcre !== 'error' || ours === 'unsupported' : pcre !== 'error' && subjects.every((x, k) => ours.test(x) === pcre[k]);
      if (!agree) disagreements.push(pattern);
    }
    expect(disagreements).toEqual([]);
  });

  test.each(brokenPatterns)('%s is refused, as PCRE refuses it', (pattern) => {
    expect(verdict(pattern)).toBe('broken');
    if (grepHasPcre) expect(pcreMatches(pattern, ['x'])).toBe('error');
  });

  test.each(unsupportedPatterns)('%s is valid PCRE that wsgate says it cannot run', (pattern) => {
    expect(verdict(pattern)).toBe('unsupported');
    if (grepHasPcre) expect(pcreMatches(pattern, ['x'])).not.toBe('error');
  });

  // Valid PCRE whose worst case in JavaScript's backtracking engine would block the event loop.
  test.each([
    ['^/(a+)+$', "nested quantifier '(a+)+'"],
    ['^/(a?a?)+$', "nested quantifier '(a?a?)+'"],
    ['^/(?:x(\\w+/)){2,}$', "nested quantifier '(?:x(\\w+/)){2,}'"],
    ['^/(a|ab)*$', "quantified alternation '(a|ab)*'"],
    ['^/(\\d|x)+$', "quantified alternation '(\\d|x)+'"],
    ['(?i)^/(a|A)+$', "quantified alternation '(a|A)+'"],
    ['^/.*a.*a.*z$', "too many repeats: up to '^/.*a.*a.*'"],
  ])('%s is refused as unsafe: %s', (pattern, construct) => {
    const t = translatePcre(pattern);
    expect(t.kind).toBe('unsafe');
    expect(t.kind === 'unsafe' && t.reason).toContain(construct);
    if (grepHasPcre) expect(pcreMatches(pattern, ['x'])).not.toBe('error');
  });

  test.each(['^/(foo|bar)+$', '^/(a+)?$', '^/((a)b)+$', '^/rooms/[^/]+/users/[^/]+$', '^/x{1,64}y{1,64}z{1,64}$', '^/(?:ab)+c*$'])(
    '%s stays allowed (no nesting, distinct alternatives, cost within the budget)',
    (pattern) => {
      expect(verdict(pattern)).toBeInstanceOf(RegExp);
    },
  );
});
