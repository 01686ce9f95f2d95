// The config loader does not trust its input (issue 14, items 4 and 6): only regular files, bounded
// sizes, each file read once, bounded nesting, line length and ${VAR} expansion, regex Locations
// that cannot stall the event loop; each as a FILE:LINE:COL diagnostic and exit 1, never a throw.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { check } from '../../src/cli/check.js';
import { loadConfig } from '../../src/config/load.js';
import { maxConfigFileBytes } from '../../src/config/read-file.js';
import { maxIncludedFiles, maxNestingDepth } from '../../src/config/tree.js';
import { brief, captureIO, tempTree } from './helpers.js';

const mkfifo = (path: string): boolean => spawnSync('mkfifo', [path]).status === 0;

async function checkErrors(root: string, file: string): Promise<{ code: number; err: string }> {
  const { io, err } = captureIO(root);
  const code = await check(['-f', file], io);
  return { code, err: err() };
}

describe('config loader limits', () => {
  test('check -f on a device, a FIFO or a directory: a clear error and exit 1, without reading or blocking', async () => {
    const root = tempTree({ 'dir/x': '' });
    const fifo = join(root, 'fifo');
    expect(mkfifo(fifo)).toBe(true);
    for (const [file, kind] of [['/dev/zero', 'a character device'], [fifo, 'a FIFO'], [join(root, 'dir'), 'a directory']] as const) {
      const { code, err } = await checkErrors(root, file);
      expect(code).toBe(1);
      expect(err).toContain(`cannot read the configuration file: ${file} is ${kind}, not a regular file`);
    }
  });

  test('Include of a device or a FIFO, and WebSocketControlTokenFile /dev/zero, are FILE:LINE:COL errors', () => {
    const root = tempTree({});
    const fifo = join(root, 'fifo');
    expect(mkfifo(fifo)).toBe(true);
    const main = join(root, 'main.conf');
    writeFileSync(main, `Include ${fifo}\nInclude /dev/zero\nWebSocketControlTokenFile /dev/zero\nWebSocketControlTokenFile ${fifo}\n`);
    expect(brief(loadConfig(main, {}).diagnostics)).toEqual([
      `1:9 error Include: cannot read ${fifo}: ${fifo} is a FIFO, not a regular file`,
      '2:9 error Include: cannot read /dev/zero: /dev/zero is a character device, not a regular file',
      '3:27 error WebSocketControlTokenFile: cannot read /dev/zero: /dev/zero is a character device, not a regular file',
      `4:27 error WebSocketControlTokenFile: cannot read ${fifo}: ${fifo} is a FIFO, not a regular file`,
    ]);
  });

  test('files over the size limit, token files over 64 KiB and lines over 1 MiB are refused before they are parsed', () => {
    const root = tempTree({
      'big.conf': `# ${'x'.repeat(maxConfigFileBytes)}\n`,
      'token': 't'.repeat(64 * 1024 + 1),
      // 2 MiB of \ continuations: one logical line.
      'long.conf': `ServerName a\\\n${'b\\\n'.repeat(1024 * 1024)}c\n`,
      'main.conf': 'Include big.conf\nWebSocketControlTokenFile token\nInclude long.conf\n',
    });
    expect(brief(loadConfig(join(root, 'main.conf'), {}).diagnostics)).toEqual([
      `1:9 error Include: cannot read ${join(root, 'big.conf')}: ${join(root, 'big.conf')} is ${maxConfigFileBytes + 3} bytes, more than the ${maxConfigFileBytes} allowed`,
      `2:27 error WebSocketControlTokenFile: cannot read ${join(root, 'token')}: ${join(root, 'token')} is ${64 * 1024 + 1} bytes, more than the ${64 * 1024} allowed`,
      '1:1 error line longer than 1048576 characters (after joining \\ continuations); the file is not read',
    ]);
  });

  test('wildcards that include each other: each cycle reported once per Include line, the inclusions bounded', () => {
    const files: Record<string, string> = { 'main.conf': 'Include parts/*.conf\n' };
    for (let i = 0; i < 8; i++) files[`parts/f${i}.conf`] = 'Include parts/*.conf\n';
    const root = tempTree(files);
    const { diagnostics } = loadConfig(join(root, 'main.conf'), {});
    const budget = diagnostics.filter((d) => d.message.includes(`more than ${maxIncludedFiles} files included in all`));
    expect(budget).toHaveLength(1);
    // 8 Include lines × 8 files at most, not the 767,208 of the unbounded walk.
    expect(diagnostics.length).toBeLessThanOrEqual(65);
    expect(diagnostics.every((d) => d.severity === 'error' && d.loc.line === 1 && d.loc.column === 9)).toBe(true);
  });

  test('5,000 nested sections: one error at the first section too deep, no stack overflow', async () => {
    const depth = 5000;
    const root = tempTree({ 'main.conf': `${'<IfDefine !X>\n'.repeat(depth)}${'</IfDefine>\n'.repeat(depth)}` });
    const { code, err } = await checkErrors(root, 'main.conf');
    expect(code).toBe(1);
    expect(err).toBe(`main.conf:${maxNestingDepth}:1: <IfDefine> is nested more than ${maxNestingDepth} sections and includes deep; its contents are not read\n`);
  });

  test('39 doubling Defines: an error where the expansion crosses 1 MiB, not a RangeError', async () => {
    let text = 'Define V0 xx\n';
    for (let i = 1; i < 40; i++) text += `Define V${i} \${V${i - 1}}\${V${i - 1}}\n`;
    const root = tempTree({ 'main.conf': text });
    const { code, err } = await checkErrors(root, 'main.conf');
    expect(code).toBe(1);
    // V19 would be 2^20 · 2 characters; V20 and later then double the unexpanded ${V19}… text only.
    expect(err.split('\n')[0]).toBe('main.conf:21:12: expanding ${V19} makes this argument longer than 1048576 characters; it is kept unexpanded');
  });

  test('a regex Location that can backtrack exponentially: check names the construct at FILE:LINE:COL, exit 1', async () => {
    const root = tempTree({
      'main.conf':
        'WebSocketWorkers 0\n<LocationMatch "^/(a+)+$">\nSetHandler websocket-handler\nWebSocketHandler h.mjs\n</LocationMatch>\n' +
        '<Location /x/*/*/*>\nSetHandler websocket-handler\nWebSocketHandler h.mjs\n</Location>\n',
      'h.mjs': 'export default { onMessage() {} };\n',
    });
    const { code, err } = await checkErrors(root, 'main.conf');
    expect(code).toBe(1);
    expect(err.split('\n')).toEqual([
      "main.conf:2:16: regular expression '^/(a+)+$' could block the gateway on a hostile path (JavaScript's engine has no match limit, unlike Apache's PCRE): nested quantifier '(a+)+': a repeated group that itself contains a quantifier can take exponential time on a non-matching path; rewrite that part, e.g. with a character class or a bounded repeat",
      "main.conf:6:11: <Location /x/*/*/*> has 3 '*' wildcards; at most 2 are allowed, as more could block the gateway on a hostile path (use <LocationMatch> with bounded repeats such as [^/]{1,64})",
      '',
    ]);
  });
});
