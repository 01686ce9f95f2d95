// Regenerates README.md's configuration reference (between the directives markers) from the
// directive schema. Run after `npm run build`:  node scripts/gen-config-docs.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { renderDirectiveReference } = await import(join(root, 'dist', 'config', 'docs.js'));
const readme = join(root, 'README.md');
const begin = '<!-- directives:begin -->';
const end = '<!-- directives:end -->';
const text = readFileSync(readme, 'utf8');
const from = text.indexOf(begin);
const to = text.indexOf(end);
if (from < 0 || to < from) {
  process.stderr.write(`gen-config-docs: ${readme} lacks the ${begin} … ${end} markers\n`);
  process.exit(1);
}
writeFileSync(readme, `${text.slice(0, from + begin.length)}\n${renderDirectiveReference()}${text.slice(to)}`);
process.stderr.write('gen-config-docs: README.md configuration reference updated\n');
