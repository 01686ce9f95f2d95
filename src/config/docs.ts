// The README's configuration reference, generated from the schema so docs cannot drift.
import { directiveSchema, sectionDocs, type DirectiveContext, type DirectiveGroup, type DirectiveSpec } from './schema.js';

const groupTitles: Record<DirectiveGroup, string> = {
  mod_websocket: "mod_websocket's directives (same meaning as the original module)",
  wsgate: "wsgate's per-endpoint directives",
  control: 'Control (push) channel',
  remoteip: "Client addresses behind proxies (mod_remoteip's names)",
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
- Apache directives wsgate does not use (DocumentRoot, ErrorLog, …) are accepted and ignored
  (\`wsgate check --verbose\` lists them); a misspelt wsgate directive is an error with a suggestion.
- Per-endpoint settings may be given in the main server, in \`<VirtualHost>\` and in \`<Location>\`;
  a Location inherits from its VirtualHost, which inherits from the main server.`;

export function renderDirectiveReference(): string {
  const out: string[] = [syntaxRules, ''];
  const groups: DirectiveGroup[] = ['mod_websocket', 'wsgate', 'control', 'remoteip', 'apache'];
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
