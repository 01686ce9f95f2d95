#!/usr/bin/env -S node --initial-old-space-size=64 --no-parallel-scavenge --min-semi-space-size=8
// The package's command. The TypeScript sources are compiled at install time (scripts/build.mjs).
// The shebang's V8 options: see src/cluster/worker-heap.ts (run as `node bin/wsgate.js`, give them yourself;
// worker processes get them either way).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('wsgate: dist/ is missing; run `npm run build` (normally done by `npm ci`)\n');
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
