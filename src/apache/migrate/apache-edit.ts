// The Apache side of a migration, edited in place: every mod_websocket <Location> becomes the proxy
// block for its endpoint, `<IfModule mod_websocket…>` (false once the module is gone) becomes
// `<IfModule proxy_module>`, and the module's LoadModule lines become the proxy modules.
import type { ResolvedNode } from '../../config/tree.js';
import { renderEndpointBlock, type BlockContext } from '../endpoint-block.js';
import { renderDirective } from '../quote.js';
import type { MergedEndpoint } from './merge.js';
import type { FoundEndpoint, Note } from './scan.js';
import { sectionRange, type FileCache, type LineRange } from './sections.js';

export interface Replacement {
  range: LineRange;
  lines: string[];
  /** What the report says about it. */
  summary: string;
}

function locationRange(files: FileCache, e: FoundEndpoint): LineRange {
  return sectionRange(files, e.node.loc, e.node.name);
}

function leadingSpace(files: FileCache, range: LineRange): string {
  return /^\s*/.exec(files.get(range.file)[range.first - 1] ?? '')?.[0] ?? '';
}

/** Files indented with tabs get tabs in the generated lines too. */
function tabify(line: string): string {
  return line.replace(/^(?: {4})+/, (spaces) => '\t'.repeat(spaces.length / 4));
}

function describe(e: FoundEndpoint): string {
  return `<${e.node.name} ${e.node.args.join(' ')}>`;
}

export function endpointReplacements(files: FileCache, endpoints: readonly MergedEndpoint[], context: BlockContext): Replacement[] {
  const occurrences = endpoints.flatMap((merged) => merged.occurrences.map((found) => ({ merged, found })));
  return occurrences.map(({ merged, found }) => {
    const range = locationRange(files, found);
    const first = merged.occurrences[0] as FoundEndpoint;
    const body =
      found === merged.primary
        ? [`# wsgate migrate: this mod_websocket ${describe(found)} (lines ${range.first}-${range.last}) now runs in the gateway.`,
           ...renderEndpointBlock(merged.config, context, found.apacheLines.flatMap((n) => renderDirective(n)))]
        : [`# wsgate migrate: ${describe(found)} (lines ${range.first}-${range.last}) repeated the one at ${context.where(first.node.loc)}; the gateway serves both.`];
    return { range, lines: indentLike(files, range, body), summary: `${describe(found)} → ${found === merged.primary ? 'proxied to the gateway' : 'merged, removed'}` };
  });
}

/** Each line indented like the first line of `range` (tabs when the file uses them). */
function indentLike(files: FileCache, range: LineRange, lines: readonly string[]): string[] {
  const pad = leadingSpace(files, range);
  return lines.map((l) => (l === '' ? l : pad + (pad.includes('\t') ? tabify(l) : l)));
}

/** `<IfModule mod_websocket.c>` is false once the module is gone: its content now needs mod_proxy. */
export function conditionReplacements(files: FileCache, conditions: readonly ResolvedNode[]): Replacement[] {
  return conditions.map((node) => {
    const range = { file: node.loc.file, first: node.loc.line, last: node.loc.line };
    return {
      range,
      lines: indentLike(files, range, [`# wsgate migrate: was <IfModule ${node.args[0] ?? ''}>.`, '<IfModule proxy_module>']),
      summary: `<IfModule ${node.args[0] ?? ''}> → <IfModule proxy_module>`,
    };
  });
}

export function loadModuleReplacements(loadModules: readonly ResolvedNode[], globalLines: readonly string[]): Replacement[] {
  return loadModules.map((node, i) => ({
    range: { file: node.loc.file, first: node.loc.line, last: node.loc.line },
    lines:
      i === 0
        ? [`# wsgate migrate: \`LoadModule ${node.args.join(' ')}\` replaced by the proxy modules.`, ...globalLines]
        : [`# wsgate migrate: \`LoadModule ${node.args.join(' ')}\` removed (the gateway serves every protocol version).`],
    summary: i === 0 ? `LoadModule ${node.args[0] ?? ''} → the proxy modules` : `LoadModule ${node.args[0] ?? ''} → removed`,
  }));
}

/** mod_websocket lines left outside the replaced blocks (e.g. in <Directory>): Apache would refuse
 *  them without the module, so they become comments; the report lists them as not carried over. */
export function strayLineReplacements(
  files: FileCache,
  lines: readonly ResolvedNode[],
  taken: readonly LineRange[],
  explained: ReadonlySet<ResolvedNode>,
  notes: Note[],
): Replacement[] {
  return lines
    .filter((node) => !taken.some((r) => r.file === node.loc.file && r.first <= node.loc.line && node.loc.line <= r.last))
    .map((node) => {
      if (!explained.has(node)) {
        notes.push({ kind: 'unsupported', loc: node.loc, text: `\`${node.name} ${node.args.join(' ')}\` outside a WebSocket <Location>: commented out in Apache; set it per Location in wsgate.conf if it mattered` });
      }
      const text = files.get(node.loc.file)[node.loc.line - 1] ?? '';
      const pad = /^\s*/.exec(text)?.[0] ?? '';
      return {
        range: { file: node.loc.file, first: node.loc.line, last: node.loc.line },
        lines: [`${pad}# wsgate migrate (not migrated, see MIGRATION.md): ${text.trim()}`],
        summary: `\`${node.name} ${node.args.join(' ')}\` → commented out`,
      };
    });
}

/** Applies non-overlapping replacements to one file's lines. */
export function applyReplacements(original: readonly string[], replacements: readonly Replacement[]): string {
  const out = [...original];
  for (const r of [...replacements].sort((a, b) => b.range.first - a.range.first)) {
    out.splice(r.range.first - 1, r.range.last - r.range.first + 1, ...r.lines);
  }
  return out.join('\n');
}

