// Imports run one way through src/ (cli → server/control/apache/cluster → registry → plugins →
// config/protocol → errors/log) and no module imports itself back through others, type-only imports
// included: a reader can take the layers bottom up, and a cycle cannot creep in unnoticed.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../native/helpers.js';

const SRC = join(repoRoot, 'src');

/** A module's layer: its folder under src/, or the top-level file's name. An import may only go to
 *  a lower layer (or stay in its own folder). */
const LAYER: Record<string, number> = {
  'errors.ts': 0,
  'log.ts': 0,
  config: 1,
  protocol: 1,
  'listen.ts': 2,
  plugins: 2,
  registry: 3,
  server: 4,
  control: 4,
  apache: 4,
  cluster: 4,
  metrics: 5,
  cli: 6,
  'index.ts': 6,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Relative imports of one file, resolved to .ts paths: static, type-only, re-exports and import(). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'(\.[^']+)'/gms),
    ...text.matchAll(/^\s*import\s+'(\.[^']+)'/gm),
    ...text.matchAll(/\bimport\(\s*'(\.[^']+)'\s*\)/g),
  ].map((m) => m[1]!);
  return specifiers.map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

const layerOf = (file: string): string => relative(SRC, file).split('/')[0]!;

const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe('import layers of src/', () => {
  it('every module is in a known layer and every import resolves to a source file', () => {
    const unknown = files.map(layerOf).filter((l) => LAYER[l] === undefined);
    expect([...new Set(unknown)]).toEqual([]);
    const dangling = [...graph].flatMap(([f, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${relative(SRC, f)} -> ${relative(SRC, d)}`));
    expect(dangling).toEqual([]);
  });

  it('imports only go down: no module imports a layer at or above its own (its own folder aside)', () => {
    const upward = [...graph].flatMap(([f, deps]) =>
      deps
        .filter((d) => layerOf(d) !== layerOf(f) && LAYER[layerOf(d)]! >= LAYER[layerOf(f)]!)
        .map((d) => `${relative(SRC, f)} -> ${relative(SRC, d)}`),
    );
    expect(upward).toEqual([]);
  });

  it('no import cycles between files', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'open');
      path.push(file);
      for (const dep of graph.get(file) ?? []) {
        if (state.get(dep) === 'open') cycles.push([...path.slice(path.indexOf(dep)), dep].map((p) => relative(SRC, p)).join(' -> '));
        else if (!state.has(dep)) visit(dep);
      }
      path.pop();
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});
