// "did you mean …?" for misspelt wsgate directives, without flagging Apache's own directives.
import { directiveNames } from './schema.js';

/** Optimal-string-alignment distance, case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const rows: number[][] = Array.from({ length: s.length + 1 }, (_, i) => [i, ...new Array<number>(t.length).fill(0)]);
  for (let j = 1; j <= t.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[s.length]![t.length]!;
}

const wsgatePrefixes = ['websocket', 'maxmessage', 'supportdraft'];

/** Apache directives one or two edits away from a schema name: never "corrected". */
const apacheNeighbours = new Set(['addhandler', 'removehandler', 'serverpath', 'serveradmin', 'listenbacklog', 'listencoresbucketsratio', 'remoteipproxiesheader', 'loglevel']);

/** Per lower-cased name: configs repeat the same Apache directives thousands of times. */
const verdicts = new Map<string, string | undefined>();
const maxRemembered = 4096;

/** An error message when `name` looks like a misspelt wsgate directive, else undefined. */
export function misspeltDirective(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (verdicts.has(lower)) return verdicts.get(lower)?.replace('\0', name);
  const verdict = judge(lower);
  if (verdicts.size < maxRemembered) verdicts.set(lower, verdict);
  return verdict?.replace('\0', name);
}

/** The message with \0 where the name as written goes. */
function judge(lower: string): string | undefined {
  if (apacheNeighbours.has(lower)) return undefined;
  const ours = wsgatePrefixes.some((p) => lower.startsWith(p));
  let best: { name: string; distance: number } | undefined;
  for (const name of directiveNames) {
    // Distance is at least the length difference: skip hopeless candidates cheaply.
    if (!ours && Math.abs(name.length - lower.length) > 2) continue;
    const distance = editDistance(lower, name);
    if (best === undefined || distance < best.distance) best = { name, distance };
  }
  const close = best !== undefined && best.distance <= Math.max(1, Math.floor(best.name.length / 5));
  if (!ours && !(close && best !== undefined && best.distance <= (lower.length >= 10 ? 2 : 1))) return undefined;
  const hint = close && best ? `; did you mean ${best.name}?` : '';
  return `unknown directive \0${ours ? ' (not a mod_websocket or wsgate directive)' : ''}${hint}`;
}

/** Section names of Apache 2.4 (core and the modules a site commonly loads) and of wsgate. */
const knownSections = [
  'VirtualHost', 'Location', 'LocationMatch', 'IfModule', 'IfDefine',
  'Directory', 'DirectoryMatch', 'Files', 'FilesMatch', 'Proxy', 'ProxyMatch', 'If', 'ElseIf', 'Else',
  'IfVersion', 'IfFile', 'IfDirective', 'IfSection', 'Limit', 'LimitExcept', 'RequireAll', 'RequireAny',
  'RequireNone', 'AuthnProviderAlias', 'AuthzProviderAlias', 'Macro', 'MDomain', 'MDomainSet', 'Perl',
];
const knownSectionSet = new Set(knownSections.map((n) => n.toLowerCase()));

/** The section `name` is a misspelling of (`Locaton` → `Location`), else undefined. Names far from
 *  every known one are left alone: Apache modules wsgate does not know may add sections. */
export function misspeltSection(name: string): string | undefined {
  if (knownSectionSet.has(name.toLowerCase())) return undefined;
  let best: { name: string; distance: number } | undefined;
  for (const known of knownSections) {
    const distance = editDistance(name, known);
    if (best === undefined || distance < best.distance) best = { name: known, distance };
  }
  return best !== undefined && best.distance <= (best.name.length >= 8 ? 2 : 1) ? best.name : undefined;
}
