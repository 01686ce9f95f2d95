// `<Location PATH>`, `<Location ~ REGEX>` and `<LocationMatch REGEX>` → LocationMatch.
import type { DiagnosticSink } from './diagnostics.js';
import { globToRegExp } from './include.js';
import type { LocationMatch } from './model.js';
import { translatePcre } from './pcre.js';
import type { ResolvedNode } from './tree.js';

/** The Location as written in the config ('/echo', '/rooms/*', or a LocationMatch's regex): the
 *  registry, the control channel, `check` and the Apache generator all name endpoints by it. */
export function locationName(endpoint: { match: LocationMatch }): string {
  return endpoint.match.kind === 'prefix' ? endpoint.match.path : endpoint.match.source;
}

/** The section a match was written as, for writing it back in wsgate's own syntax. */
export function writtenSection(match: LocationMatch): 'Location' | 'LocationMatch' {
  return match.kind === 'prefix' || match.wildcard ? 'Location' : 'LocationMatch';
}

/** Apache's test for a `<Location PATH>` without wildcards (httpd's location walk): the request
 *  path starts with PATH at a segment boundary, unless PATH itself ends with '/'. `/echo` matches
 *  /echo, /echo/ and /echo/x but not /echoes; `/dir/` matches /dir/ and /dir/x but not /dir. */
export function prefixLocationMatches(location: string, path: string): boolean {
  if (!path.startsWith(location)) return false;
  return location.endsWith('/') || path.length === location.length || path.charCodeAt(location.length) === 0x2f;
}

export const sameMatch = (a: LocationMatch, b: LocationMatch): boolean =>
  a.kind === 'prefix' ? b.kind === 'prefix' && a.path === b.path : b.kind === 'regex' && a.source === b.source;

/** Reports a wrong form or a regular expression wsgate cannot use, and returns undefined.
 *  `endpoint`: the section serves WebSocket (else wsgate ignores it, so PCRE-only syntax is only a warning). */
export function parseLocationMatch(node: ResolvedNode, sink: DiagnosticSink, endpoint: boolean): LocationMatch | undefined {
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
    // Each * is an unbounded repeat in the RegExp: three would cost seconds on a long hostile path.
    const stars = source.match(/\*+/g)?.length ?? 0;
    if (stars > 2) {
      sink.error('CONFIG_VALUE', loc, `<${node.name} ${source}> has ${stars} '*' wildcards; at most 2 are allowed, as more could block the gateway on a hostile path (use <LocationMatch> with bounded repeats such as [^/]{1,64})`);
      return undefined;
    }
    return { kind: 'regex', source, regex: globToRegExp(source), wildcard: true };
  }
  const translated = translatePcre(source);
  if (translated.kind === 'broken') {
    // Apache's PCRE refuses it too: always an error, as `apache2 -t` would report.
    sink.error('CONFIG_VALUE', loc, `regular expression '${source}' does not compile: ${translated.reason}`);
    return undefined;
  }
  if (translated.kind === 'unsafe') {
    // Valid for Apache, but matching it could block the event loop (see pcre.ts checkRepeat).
    const what = `regular expression '${source}' could block the gateway on a hostile path (JavaScript's engine has no match limit, unlike Apache's PCRE): ${translated.reason}; rewrite that part, e.g. with a character class or a bounded repeat`;
    if (endpoint) sink.error('CONFIG_VALUE', loc, what);
    else sink.warning('CONFIG_VALUE', loc, `${what}; this <${node.name}> is not a WebSocket endpoint, so wsgate ignores it`);
    return undefined;
  }
  let reason = translated.kind === 'unsupported' ? translated.reason : '';
  if (translated.kind === 'ok') {
    try {
      return { kind: 'regex', source, regex: new RegExp(translated.source, translated.flags) };
    } catch (err) {
      reason = (err as Error).message;
    }
  }
  const what = `regular expression '${source}' uses PCRE syntax wsgate cannot match with a JavaScript RegExp: ${reason}`;
  if (endpoint) sink.error('CONFIG_VALUE', loc, `${what}; rewrite it for this WebSocket endpoint`);
  else sink.warning('CONFIG_VALUE', loc, `${what}; this <${node.name}> is not a WebSocket endpoint, so wsgate ignores it`);
  return undefined;
}
