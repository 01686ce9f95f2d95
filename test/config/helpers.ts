// Shared by the config tests: a writable copy of the fixture tree (with placeholder plugin files,
// which .gitignore would drop from the repository), in-process CLI streams, and short formatting.
import { cpSync, mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import type { Diagnostic } from '../../src/config/model.js';

export const fixtureSource = join(import.meta.dirname, '..', 'fixtures', 'config');

const placeholderPlugins = [
  'docs-style/libexec/apache2/mod_websocket_echo.so',
  'docs-style/libexec/apache2/mod_websocket_dumb_increment.so',
  'debian/usr/lib/apache2/modules/mod_websocket_echo.so',
  'debian/usr/lib/apache2/modules/mod_websocket_dumb_increment.so',
  'macos/usr/libexec/apache2/mod_websocket_echo.so',
  'macos/usr/libexec/apache2/mod_websocket_dumb_increment.so',
  'windows/modules/mod_websocket_echo.so',
  'windows/modules/mod_websocket_dumb_increment.so',
];

const created: string[] = [];
// Registered in every test file that imports the helpers: its temporary trees go when it ends.
afterAll(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function makeTemp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-config-'));
  created.push(dir);
  return dir;
}

/** A fresh temporary copy of test/fixtures/config with the placeholder plugin files created. */
export function fixtureTree(): string {
  const root = makeTemp();
  cpSync(fixtureSource, root, { recursive: true });
  for (const rel of placeholderPlugins) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), 'placeholder: config tests only check that the file exists\n');
  }
  return root;
}

/** A temporary directory holding `files` (relative path → content). */
export function tempTree(files: Record<string, string>): string {
  const root = makeTemp();
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
  return root;
}

export function captureIO(cwd: string, env: NodeJS.ProcessEnv = {}): { io: CliIO; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { io: { stdout, stderr, cwd, env }, out: () => out, err: () => err };
}

/** "LINE:COL severity message" without the file, for compact expectations. */
export function brief(d: readonly Diagnostic[]): string[] {
  return d.map((x) => `${x.loc.line}:${x.loc.column} ${x.severity} ${x.message}`);
}
