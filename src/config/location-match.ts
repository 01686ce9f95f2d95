// `<Location PATH>`, `<Location ~ REGEX>` and `<LocationMatch REGEX>` → LocationMatch.
import type { DiagnosticSink } from './diagnostics.js';
import { globToRegExp } from './include.js';
import type { LocationMatch } from './model.js';
import type { ResolvedNode } from './tree.js';

export const sameMatch = (a: LocationMatch, b: LocationMatch): boolean =>
  a.kind === 'prefix' ? b.kind === 'prefix' && a.path === b.path : b.kind === 'regex' && a.source === b.source;

/** Reports a wrong form or a regular expression that does not compile, and returns undefined. */
export function parseLocationMatch(node: ResolvedNode, sink: DiagnosticSink): LocationMatch | undefined {
  const isMatch = node.name.toLowerCase() === 'locationmatch';
  const [a, b] = node.args;
  const regexForm = isMatch ? node.args.length === 1 : node.args.length === 2 && a === '~';
  if (!regexForm && (isMatch || node.args.length !== 1 || a === '~')) {
    const usage = isMatch ? '<LocationMatch REGEX>' : '<Location PATH> or <Location ~ REGEX>';
    sink.error('CONFIG_SYNTAX', node.loc, `<${node.name}> takes ${usage}, got ${node.args.length} argument${node.args.length === 1 ? '' : 's'}`);
    return undefined;
  }
  const source = regexForm ? (isMatch ? a : b) ?? '' : a ?? '';
  const loc = node.argLocs[regexForm && !isMatch ? 1 : 0] ?? node.loc;
  if (!regexForm) {
    // Apache matches a <Location> path containing wildcards with fnmatch, over the whole path.
    if (!/[*?[]/.test(source)) return { kind: 'prefix', path: source };
    return { kind: 'regex', source, regex: globToRegExp(source) };
  }
  const caseless = source.startsWith('(?i)');
  try {
    return { kind: 'regex', source, regex: new RegExp(caseless ? source.slice(4) : source, caseless ? 'i' : '') };
  } catch (err) {
    sink.error('CONFIG_VALUE', loc, `regular expression '${source}' does not compile: ${(err as Error).message}`);
    return undefined;
  }
}
