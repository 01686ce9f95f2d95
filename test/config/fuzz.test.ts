// Config fuzz (issue 14): the shipped configs (conf/, test/fixtures/config/) mutated at random, plus
// the hostile inputs of the issue, through loadConfig as `check` and `serve` read them. Bounded in
// count (a fixed seed, 300 mutations) and in time (the test's timeout); asserts that nothing throws,
// that no case comes near a hang, and that memory stays bounded.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadConfig, loadConfigText } from '../../src/config/load.js';
import { fixtureTree } from './helpers.js';

const repo = join(import.meta.dirname, '..', '..');

function confFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.conf'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Pieces a mutation inserts: syntax edges, Apache's own forms and the abuse in small doses. */
const pieces = [
  '<', '>', '</', '<Location /x>', '</Location>', '<IfDefine X>', '</IfDefine>', '<VirtualHost *:80>', '</VirtualHost>',
  '"', "'", '\\', '\\\n', '\r\n', '\n', '#', '${A}', '${', '}', '\u0000', '\ufeff', 'é', '\uFFFD',
  'Include *.conf', 'Include .', 'IncludeOptional /dev/null', 'Include /dev/zero', 'Define A ${A}${A}${A}${A}', 'UnDefine A',
  'WebSocketControlTokenFile /dev/zero', 'ServerRoot /', 'ServerRoot ..', '<LocationMatch "^/(a+)+$">', '<LocationMatch "(?i', '<Location ~ "[">',
  'MaxMessageSize 99999999999999999999', 'WebSocketPingInterval -1', 'Listen [::1', 'Listen 99999', 'SetHandler websocket-handler',
  'WebSocketHandler x.so', 'WebSocketHandler handlers/echo.mjs', 'x'.repeat(5000), '<'.repeat(300), `${'<IfDefine !Y>\n'.repeat(400)}`,
];

/** A small deterministic generator, so a failure is reproducible from its index. */
function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

function mutate(text: string, next: () => number): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  let out = text;
  for (let n = 1 + Math.floor(next() * 4); n > 0; n--) {
    const at = Math.floor(next() * (out.length + 1));
    const lines = out.split('\n');
    switch (Math.floor(next() * 6)) {
      case 0: // insert a piece
        out = out.slice(0, at) + pick(pieces) + out.slice(at);
        break;
      case 1: // delete a run
        out = out.slice(0, at) + out.slice(at + Math.floor(next() * 40));
        break;
      case 2: // repeat a line many times
        lines.splice(Math.floor(next() * lines.length), 0, ...Array<string>(1 + Math.floor(next() * 200)).fill(pick(lines)));
        out = lines.join('\n');
        break;
      case 3: // swap two lines (sections open and close out of order)
        {
          const i = Math.floor(next() * lines.length);
          const j = Math.floor(next() * lines.length);
          [lines[i], lines[j]] = [lines[j]!, lines[i]!];
          out = lines.join('\n');
        }
        break;
      case 4: // truncate
        out = out.slice(0, at);
        break;
      default: // flip a character
        out = out.slice(0, at) + String.fromCharCode(Math.floor(next() * 128)) + out.slice(at + 1);
    }
  }
  return out;
}

interface Budget {
  slowestMs: number;
  slowest: string;
  peakRssGrowth: number;
  thrown: string[];
}

function run(budget: Budget, name: string, load: () => unknown, baseline: number): void {
  const start = performance.now();
  try {
    load();
  } catch (err) {
    budget.thrown.push(`${name}: ${(err as Error).stack ?? String(err)}`);
  }
  const ms = performance.now() - start;
  if (ms > budget.slowestMs) Object.assign(budget, { slowestMs: ms, slowest: name });
  budget.peakRssGrowth = Math.max(budget.peakRssGrowth, process.memoryUsage().rss - baseline);
}

/** Generous: a case this slow is a hang in the making, not a slow machine. */
const hangMs = 10_000;
/** The unbounded loader reached 681 MB (globs), 3.4 GB (continuations) and 6 GB (/dev/zero). */
const rssBound = 400 * 1024 * 1024;

describe('config fuzz', () => {
  test('300 mutations of the shipped configs: no throw, no hang, bounded memory', { timeout: 120_000 }, () => {
    const root = fixtureTree();
    const seeds = [...confFiles(join(repo, 'conf')), ...confFiles(root)];
    expect(seeds.length).toBeGreaterThan(10);
    const next = random(14);
    const budget: Budget = { slowestMs: 0, slowest: '', peakRssGrowth: 0, thrown: [] };
    const baseline = process.memoryUsage().rss;
    for (let i = 0; i < 300; i++) {
      const seed = seeds[i % seeds.length]!;
      const text = mutate(readFileSync(seed, 'utf8'), next);
      // Written next to the original, so its relative Includes and handler paths still resolve.
      const file = `${seed}.fuzz${i}.conf`;
      if (seed.startsWith(root)) {
        writeFileSync(file, text);
        run(budget, `#${i} ${relative(root, seed)}`, () => loadConfig(file, { env: {} }), baseline);
      } else {
        run(budget, `#${i} ${relative(repo, seed)}`, () => loadConfigText(text, seed, { env: {} }), baseline);
      }
    }
    expect(budget.thrown).toEqual([]);
    expect(budget.slowestMs, budget.slowest).toBeLessThan(hangMs);
    expect(budget.peakRssGrowth).toBeLessThan(rssBound);
  });

  test("the issue's hostile inputs: no throw, no hang, bounded memory", { timeout: 120_000 }, () => {
    const root = fixtureTree();
    const write = (name: string, text: string): string => {
      const path = join(root, name);
      writeFileSync(path, text);
      return path;
    };
    const fifo = join(root, 'fifo');
    const hasFifo = spawnSync('mkfifo', [fifo]).status === 0;
    for (let i = 0; i < 8; i++) write(`glob${i}.conf`, 'Include glob*.conf\n');
    let doubling = 'Define V0 xx\n';
    for (let i = 1; i < 40; i++) doubling += `Define V${i} \${V${i - 1}}\${V${i - 1}}\n`;
    const cases: Array<[string, () => unknown]> = [
      ['globs that include each other', () => loadConfig(write('globs.conf', 'Include glob*.conf\n'), {})],
      ['check -f /dev/zero', () => loadConfig('/dev/zero', {})],
      ['WebSocketControlTokenFile /dev/zero', () => loadConfig(write('token.conf', 'WebSocketControlTokenFile /dev/zero\n'), {})],
      ...(hasFifo
        ? ([
            ['check -f FIFO', () => loadConfig(fifo, {})],
            ['Include FIFO', () => loadConfig(write('fifo.conf', `Include ${fifo}\n`), {})],
            ['WebSocketControlTokenFile FIFO', () => loadConfig(write('fifo-token.conf', `WebSocketControlTokenFile ${fifo}\n`), {})],
          ] as Array<[string, () => unknown]>)
        : []),
      ['5,000 nested sections', () => loadConfig(write('nested.conf', `${'<IfDefine !X>\n'.repeat(5000)}${'</IfDefine>\n'.repeat(5000)}`), {})],
      ['a 20-million-character token', () => loadConfigText(`ServerName "${'x'.repeat(20_000_000)}"\n<Location ${'y'.repeat(20_000_000)}>\n</Location>\n`, join(root, 'token20m.conf'), {})],
      ['39 doubling Defines', () => loadConfig(write('doubling.conf', doubling), {})],
      ['48 MB of \\ continuations', () => loadConfig(write('continued.conf', `ServerName a${'\\\n'.repeat(24 * 1024 * 1024)}\n`), {})],
      ['8 MB of \\ continuations in one line', () => loadConfig(write('continued-small.conf', `ServerName a${'b\\\n'.repeat(2 * 1024 * 1024)}\n`), {})],
    ];
    const budget: Budget = { slowestMs: 0, slowest: '', peakRssGrowth: 0, thrown: [] };
    const baseline = process.memoryUsage().rss;
    for (const [name, load] of cases) run(budget, name, load, baseline);
    expect(budget.thrown).toEqual([]);
    expect(budget.slowestMs, budget.slowest).toBeLessThan(hangMs);
    expect(budget.peakRssGrowth).toBeLessThan(rssBound);
  });
});
