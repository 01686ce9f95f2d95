// Include / IncludeOptional file expansion, close to Apache 2.4:
//  - no wildcard: a file is read; a directory is read whole (its files, recursively, sorted);
//    missing → error for Include, nothing for IncludeOptional;
//  - wildcards (`*`, `?`, `[…]`) may be in any path segment; names starting with `.` only match a
//    pattern that starts with `.`; matches are sorted byte-wise in each directory;
//  - Include whose wildcard directory is missing, or whose wildcard matches nothing, is an error
//    (Apache: "No matches for the wildcard …"); IncludeOptional accepts both silently.
import { readdirSync, statSync, type Stats } from 'node:fs';
import { join, parse, sep } from 'node:path';

export interface IncludeExpansion {
  files: string[];
  error: string | undefined;
}

const wildcard = /[*?[]/;

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function listDirectory(dir: string): string[] {
  try {
    return readdirSync(dir).sort(byteOrder);
  } catch {
    return [];
  }
}

/** Every file under `dir` (not only regular ones: see addMatch), depth first, sorted by name at each level. */
function filesUnder(dir: string, out: string[]): void {
  for (const name of listDirectory(dir)) {
    const path = join(dir, name);
    const st = statOrUndefined(path);
    if (st?.isDirectory()) filesUnder(path, out);
    else if (st) out.push(path);
  }
}

const escapeRegExp = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** fnmatch-style pattern for one path segment → an anchored RegExp. */
export function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) out += escapeRegExp(pattern[++i]!);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        let body = pattern.slice(i + 1, end);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        out += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else out += escapeRegExp(c);
  }
  return new RegExp(`^${out}$`);
}

/** Anything but a directory is listed: the reader refuses what is not a regular file (a FIFO,
 *  a device) with a clear error, as Apache does, rather than skipping it silently. */
function addMatch(path: string, st: Stats, out: string[]): void {
  if (st.isDirectory()) filesUnder(path, out);
  else out.push(path);
}

export function expandInclude(absolutePattern: string, optional: boolean): IncludeExpansion {
  if (!wildcard.test(absolutePattern)) {
    const st = statOrUndefined(absolutePattern);
    if (!st) return { files: [], error: optional ? undefined : `could not open configuration file ${absolutePattern}: no such file or directory` };
    const files: string[] = [];
    addMatch(absolutePattern, st, files);
    return { files, error: undefined };
  }
  const { root } = parse(absolutePattern);
  const segments = absolutePattern.slice(root.length).split(sep).filter((s) => s !== '');
  const files: string[] = [];
  let error: string | undefined;
  const walk = (dir: string, index: number): void => {
    const segment = segments[index]!;
    const last = index === segments.length - 1;
    if (!wildcard.test(segment)) {
      const path = join(dir, segment);
      const st = statOrUndefined(path);
      if (last) {
        if (st) addMatch(path, st, files);
      } else if (st?.isDirectory()) walk(path, index + 1);
      else error ??= `could not open directory ${path}: no such file or directory`;
      return;
    }
    if (!statOrUndefined(dir)?.isDirectory()) {
      error ??= `could not open directory ${dir}: no such file or directory`;
      return;
    }
    const re = globToRegExp(segment);
    const matches = listDirectory(dir).filter((name) => re.test(name) && (!name.startsWith('.') || segment.startsWith('.')));
    if (matches.length === 0 && last) error ??= `no matches for the wildcard '${segment}' in '${dir}' (use IncludeOptional if that is expected)`;
    for (const name of matches) {
      const path = join(dir, name);
      const st = statOrUndefined(path);
      if (!st) continue;
      if (last) addMatch(path, st, files);
      else if (st.isDirectory()) walk(path, index + 1);
    }
  };
  walk(root, 0);
  return { files, error: optional ? undefined : error };
}
