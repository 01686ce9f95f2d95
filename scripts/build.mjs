// Install-time build: TypeScript → dist/, then the native plugin host helper (C) → build/.
// Runs as the package's own `install` script, so `npm ci` on a fresh machine leaves a working CLI.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const quiet = process.argv.includes('--quiet');
const say = (msg) => { if (!quiet) process.stderr.write(`wsgate build: ${msg}\n`); };

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(join(root, 'src', 'index.ts'))) {
  // Installed from the npm package: it ships dist/ prebuilt and no TypeScript sources.
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) say('dist/ is missing from this package; the wsgate command will not run');
} else if (!existsSync(tsc)) {
  say('typescript is not installed (npm ci --omit=dev?); keeping the existing dist/');
} else {
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  say('dist/ compiled');
}

// The native helper is optional: without a C compiler, JS handlers still work and
// `WebSocketHandler lib.so init` lines are reported as errors that say why.
const native = join(root, 'scripts', 'build-native.mjs');
if (existsSync(native)) {
  const r = spawnSync(process.execPath, [native, ...(quiet ? ['--quiet'] : [])], { stdio: 'inherit' });
  if (r.status !== 0) say('native plugin helper was not built; native plugins are unavailable');
}
