// The README's configuration reference, generated from the schema so docs cannot drift.
import { directiveSchema, sectionDocs, type DirectiveContext, type DirectiveGroup, type DirectiveSpec } from './schema.js';

const groupTitles: Record<DirectiveGroup, string> = {
  mod_websocket: "mod_websocket's directives (same meaning as the original module)",
  wsgate: "wsgate's per-endpoint directives",
  control: 'Control (push) channel',
  remoteip: "Client addresses behind proxies (mod_remoteip's names)",
  ssl: "TLS, wss:// (mod_ssl's names)",
  apache: 'Apache directives wsgate gives meaning to',
};

const contextNames: Record<DirectiveContext, string> = { server: 'server', vhost: 'vhost', location: 'Location' };

/** Table cell text: pipes escaped; `<Tag>` outside code spans escaped so Markdown shows it. */
const cell = (text: string): string =>
  text
    .split('`')
    .map((part, i) => (i % 2 === 0 ? part.replace(/</g, '&lt;') : part))
    .join('`')
    .replace(/\|/g, '\\|');

const code = (text: string): string => `\`${text.replace(/\|/g, '\\|')}\``;

function defaultText(spec: DirectiveSpec): string {
  if (spec.kind === 'model') return spec.defaultText ?? '—';
  const value: unknown = spec.default;
  if (typeof value === 'boolean') return value ? 'On' : 'Off';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(' ');
  if (typeof value === 'string') return value.charAt(0).toUpperCase() + value.slice(1);
  return String(value);
}

function contexts(spec: DirectiveSpec): string {
  if (spec.kind === 'model' && (spec.sets === 'include' || spec.sets === 'defines')) return 'anywhere';
  return spec.contexts.map((c) => contextNames[c]).join(', ');
}

/** The schema's doc text, plus what its flags mean for the reader. */
function meaning(spec: DirectiveSpec): string {
  const aliases = spec.aliases?.length ? ` Both names are accepted: ${spec.aliases.map((a) => `\`${a}\``).join(', ')} is the same setting.` : '';
  const serverWide = spec.kind === 'model' && spec.serverWide ? ' In a <VirtualHost> it applies to all virtual hosts (`check` warns).' : '';
  return spec.doc + aliases + serverWide;
}

const syntaxRules = `Files use Apache httpd.conf syntax and are read as Apache 2.4 reads them:

- One directive per line; a \`\\\` at the very end of a line joins the next line (also inside a comment).
- \`#\` starts a comment only as the first non-blank character of a line. Elsewhere it is an ordinary
  character (\`Header set X "a#b"\`): a trailing \`# …\` after a directive becomes extra arguments.
  Apache rejects that for its directives with a fixed argument count; wsgate rejects it for its own
  directives, with a hint. Put comments on their own line.
- Arguments are separated by blanks; \`"…"\` or \`'…'\` quote an argument, \`\\"\` and \`\\\\\` escape inside.
- Directive and section names are case-insensitive; \`<Section …>\` must be closed by \`</Section>\`.
- \`\${NAME}\` is replaced by a \`Define\`d value, else by the environment variable; an unknown name
  stays as written, with a warning.
- Relative paths are relative to \`ServerRoot\` (default: the directory of the main file).
  \`Include\` of a wildcard matching nothing is an error (as Apache 2.4); \`IncludeOptional\` is not.
- The loader does not trust its input; each limit is a \`FILE:LINE:COL\` error (exit 1 for \`check\`):
  only regular files are read (a FIFO, a device such as \`/dev/zero\` or a directory given as a file is
  refused, as Apache refuses them), each at most 8 MiB and 64 MiB of config text in all; each file is
  read from disk once however many Include lines or wildcards name it, and at most 4,096 inclusions
  are made in all (wildcards that include each other stop there, each cycle reported once per Include
  line); Include nesting stops at 128 and sections and includes together at 256 levels; a logical line
  (after \`\\\` continuations) may have 1 MiB, and \`\${NAME}\` expansion stops at 1 MiB per argument
  (doubling Defines are reported where they cross it).
- \`<LocationMatch>\` regexes run on JavaScript's backtracking engine, which has no match limit (PCRE
  has): a repeated group that contains a quantifier (\`(a+)+\`, \`(\\w+/)*\`) or alternatives that may
  start alike (\`(a|ab)*\`), and patterns whose quantifiers' maximum repeats multiply beyond 10^7
  (an unbounded one counts 2,048: two are fine, a third is not; use bounded repeats such as
  \`{1,64}\`) are refused, and a \`<Location>\` wildcard path may have at most two \`*\`. Regex
  Locations are tried only on paths up to 2,048 characters; a longer path reaches prefix Locations only.
- Apache directives wsgate does not use (DocumentRoot, ErrorLog, …) are accepted and ignored
  (\`wsgate check --verbose\` lists them); a misspelt wsgate directive is an error with a suggestion.
- Per-endpoint settings may be given in the main server, in \`<VirtualHost>\` and in \`<Location>\`;
  a Location inherits from its VirtualHost, which inherits from the main server.`;

export function renderDirectiveReference(): string {
  const out: string[] = [syntaxRules, ''];
  const groups: DirectiveGroup[] = ['mod_websocket', 'wsgate', 'control', 'remoteip', 'ssl', 'apache'];
  for (const group of groups) {
    out.push(`### ${groupTitles[group]}`, '', '| Directive | Context | Default | Meaning |', '|---|---|---|---|');
    for (const spec of directiveSchema.filter((d) => d.group === group)) {
      out.push(`| ${code(spec.syntax)} | ${contexts(spec)} | ${cell(defaultText(spec))} | ${cell(meaning(spec))} |`);
    }
    out.push('');
  }
  out.push('### Sections', '', '| Section | Meaning |', '|---|---|');
  for (const s of sectionDocs) out.push(`| ${code(s.syntax)} | ${cell(s.doc)} |`);
  return `${out.join('\n')}\n`;
}
