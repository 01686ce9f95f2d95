// The directive tree after Include, Define/${VAR}, UnDefine, <IfDefine> and <IfModule> are applied,
// in Apache's reading order. Every directive and section is kept (Apache's own too):
//  - an Include/IncludeOptional node keeps its place and holds the included files' nodes as children;
//  - a true <IfDefine>/<IfModule> keeps its node with its children; a false one is dropped whole.
import { statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { SourceLocation } from '../errors.js';
import { DiagnosticSink, sortDiagnostics } from './diagnostics.js';
import { expandInclude } from './include.js';
import type { Diagnostic, LoadedModule } from './model.js';
import { moduleKey, providedModules } from './modules.js';
import { argumentCountProblem, findDirective } from './schema.js';
import { realPath } from './paths.js';
import { maxConfigFileBytes, readRegularFile, type ReadResult } from './read-file.js';
import { findOverlongLine, maxLogicalLineChars } from './source.js';
import { parseConfigText, type Arg, type SyntaxNode } from './syntax.js';
import { substituteVariables } from './variables.js';

export interface LoadOptions {
  /** Where ${VAR} falls back to; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Like `apache2 -D NAME`. */
  defines?: string[];
  /** Initial ServerRoot (like `apache2 -d`); default: the main file's directory. */
  serverRoot?: string;
  /** Read absolute paths of the config (ServerRoot, Include, handler paths…) under this directory:
   *  for checking a config tree copied from another machine. */
  sysroot?: string;
}

export interface ConfigNode {
  name: string;
  args: string[];
  loc: SourceLocation;
  children?: ConfigNode[];
}

/** ConfigNode plus what the resolver needs: where each argument is, and the ServerRoot in force. */
export interface ResolvedNode extends ConfigNode {
  argLocs: SourceLocation[];
  serverRoot: string;
  children?: ResolvedNode[];
}

export interface TreeResult {
  nodes: ResolvedNode[];
  diagnostics: Diagnostic[];
  /** Define'd names (value '' when defined without one), after the whole config was read. */
  defines: Record<string, string>;
  loadedModules: LoadedModule[];
  serverRoot: string;
  /** Files in the order they were first read (the main file first). */
  files: string[];
}

const maxIncludeDepth = 128;
/** Sections and includes nested in each other; deeper trees would exhaust the stack later on. */
export const maxNestingDepth = 256;
/** Files included in all (the same file counts each time): wildcards that include each other
 *  would otherwise grow factorially. */
export const maxIncludedFiles = 4096;
/** Config text read in all, the main file and every inclusion together. */
export const maxTotalConfigBytes = 64 * 1024 * 1024;

class TreeBuilder {
  readonly sink = new DiagnosticSink();
  readonly files: string[] = [];
  readonly loaded: LoadedModule[] = [];
  private readonly names = new Set<string>();
  private readonly variables = new Map<string, string>();
  private readonly modules = new Set(providedModules.map(moduleKey));
  private readonly includeStack: string[] = [];
  /** Each file is read from disk once, however many Include lines or wildcards name it. */
  private readonly fileCache = new Map<string, ReadResult>();
  private depth = 0;
  private included = 0;
  private totalBytes = 0;
  private budgetReported = false;
  private readonly reportedCycles = new Set<string>();
  serverRoot: string;

  constructor(
    private readonly options: LoadOptions,
    mainFile: string,
  ) {
    this.serverRoot = options.serverRoot !== undefined ? resolve(options.serverRoot) : dirname(resolve(mainFile));
    for (const name of options.defines ?? []) this.names.add(name);
  }

  /** A path as written in the config → the file to read (ServerRoot-relative; sysroot applied). */
  realPath(path: string): string {
    return realPath(path, this.serverRoot, this.options.sysroot);
  }

  defines(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of this.names) out[name] = this.variables.get(name) ?? '';
    return out;
  }

  readFile(file: string, text: string): ResolvedNode[] {
    if (!this.files.includes(file)) this.files.push(file);
    this.totalBytes += text.length;
    const overlong = findOverlongLine(text);
    if (overlong) {
      // Refused before lexing: one such line would cost memory and time out of all proportion.
      this.sink.error('CONFIG_SYNTAX', { file, line: overlong.line, column: 1 }, `line longer than ${maxLogicalLineChars} characters (after joining \\ continuations); the file is not read`);
      return [];
    }
    this.includeStack.push(file);
    this.depth += 1;
    const parsed = parseConfigText(text, file);
    this.sink.list.push(...parsed.diagnostics);
    const nodes = this.expand(parsed.nodes);
    this.depth -= 1;
    this.includeStack.pop();
    return nodes;
  }

  private lookup = (name: string): string | undefined => this.variables.get(name) ?? this.options.env?.[name] ?? (this.options.env === undefined ? process.env[name] : undefined);

  private substitute(args: readonly Arg[]): { args: string[]; argLocs: SourceLocation[] } {
    const out: string[] = [];
    const argLocs: SourceLocation[] = [];
    for (const arg of args) {
      const value =
        substituteVariables(
          arg.value,
          this.lookup,
          (name) => this.sink.warning('CONFIG_VALUE', arg.loc, `variable \${${name}} is not defined (no Define before this line, not in the environment); the text is kept as is, as Apache does`),
          (name) => this.sink.error('CONFIG_VALUE', arg.loc, `expanding \${${name}} makes this argument longer than ${maxLogicalLineChars} characters; it is kept unexpanded`),
        ) ?? arg.value;
      // Apache substitutes before splitting the line into words: an unquoted value with blanks splits.
      const parts = value !== arg.value && !arg.quoted ? value.split(/\s+/).filter((p) => p !== '') : [value];
      for (const part of parts) {
        out.push(part);
        argLocs.push(arg.loc);
      }
    }
    return { args: out, argLocs };
  }

  private expand(nodes: readonly SyntaxNode[]): ResolvedNode[] {
    const out: ResolvedNode[] = [];
    for (const node of nodes) {
      const { args, argLocs } = this.substitute(node.args);
      const resolved: ResolvedNode = { name: node.name, args, loc: node.loc, argLocs, serverRoot: this.serverRoot };
      if (node.children) {
        const active = this.conditionHolds(resolved);
        if (active === false) continue;
        if (this.depth >= maxNestingDepth) {
          this.sink.error('CONFIG_SYNTAX', node.loc, `<${node.name}> is nested more than ${maxNestingDepth} sections and includes deep; its contents are not read`);
          resolved.children = [];
        } else {
          this.depth += 1;
          resolved.children = this.expand(node.children);
          this.depth -= 1;
        }
      } else {
        this.apply(resolved);
      }
      out.push(resolved);
    }
    return out;
  }

  /** undefined for sections that are not conditions. */
  private conditionHolds(node: ResolvedNode): boolean | undefined {
    const kind = node.name.toLowerCase();
    if (kind !== 'ifdefine' && kind !== 'ifmodule') return undefined;
    const what = kind === 'ifdefine' ? 'NAME' : 'MODULE (mod_x.c or x_module)';
    const arg = node.args[0];
    if (arg === undefined || arg === '!') {
      this.sink.error('CONFIG_SYNTAX', node.loc, `<${node.name}> takes one argument: [!]${what}`);
      return false;
    }
    const extra = node.argLocs[1];
    if (extra) this.sink.warning('CONFIG_SYNTAX', extra, `<${node.name}> reads only its first argument; the rest is ignored (as Apache does)`);
    const negated = arg.startsWith('!');
    const subject = negated ? arg.slice(1) : arg;
    const present = kind === 'ifdefine' ? this.names.has(subject) : this.modules.has(moduleKey(subject));
    return present !== negated;
  }

  private apply(node: ResolvedNode): void {
    const spec = findDirective(node.name);
    // Malformed uses are reported (once) by the resolver, which checks every schema directive.
    if (!spec || argumentCountProblem(spec, node.args.length) !== undefined) return;
    const [a = '', b] = node.args;
    switch (spec.name) {
      case 'Define':
        if (a.includes(':')) {
          this.sink.error('CONFIG_VALUE', node.argLocs[0] ?? node.loc, `Define: the name '${a}' must not contain ':'`);
          return;
        }
        this.names.add(a);
        if (b !== undefined) this.variables.set(a, b);
        else this.variables.delete(a);
        return;
      case 'UnDefine':
        this.names.delete(a);
        this.variables.delete(a);
        return;
      case 'ServerRoot':
        return this.setServerRoot(node, a);
      case 'LoadModule':
        if (this.loaded.some((m) => moduleKey(m.name) === moduleKey(a))) {
          this.sink.warning('CONFIG_DIRECTIVE', node.loc, `module ${a} is already loaded, skipping (as Apache does)`);
          return;
        }
        this.modules.add(moduleKey(a));
        this.loaded.push({ name: a, path: b ?? '', loc: node.loc });
        return;
      case 'Include':
      case 'IncludeOptional':
        node.children = this.include(node, a, spec.name === 'IncludeOptional');
        return;
      default:
        return;
    }
  }

  private setServerRoot(node: ResolvedNode, dir: string): void {
    const real = isAbsolute(dir) ? this.realPath(dir) : resolve(dirname(node.loc.file), dir);
    let isDir = false;
    try {
      isDir = statSync(real).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) {
      this.sink.error('CONFIG_VALUE', node.argLocs[0] ?? node.loc, `ServerRoot must be a valid directory: ${real} is not one`);
      return;
    }
    this.serverRoot = real;
    node.serverRoot = real;
  }

  private include(node: ResolvedNode, pattern: string, optional: boolean): ResolvedNode[] {
    const where = node.argLocs[0] ?? node.loc;
    const expansion = expandInclude(this.realPath(pattern), optional);
    if (expansion.error !== undefined) this.sink.error('CONFIG_INCLUDE', where, `${node.name}: ${expansion.error}`);
    const children: ResolvedNode[] = [];
    for (const file of expansion.files) {
      if (this.includeStack.includes(file)) {
        // Once per Include line and file: wildcards that include each other meet the same cycle often.
        const key = `${where.file}:${where.line}:${where.column}\0${file}`;
        if (this.reportedCycles.has(key)) continue;
        this.reportedCycles.add(key);
        const chain = [...this.includeStack.slice(this.includeStack.indexOf(file)), file].join(' → ');
        this.sink.error('CONFIG_INCLUDE', where, `${node.name} cycle: ${chain}`);
        continue;
      }
      if (this.includeStack.length >= maxIncludeDepth || this.depth >= maxNestingDepth) {
        this.sink.error('CONFIG_INCLUDE', where, `${node.name}: more than ${maxIncludeDepth} nested includes (or ${maxNestingDepth} sections and includes)`);
        continue;
      }
      if (this.included >= maxIncludedFiles || this.totalBytes > maxTotalConfigBytes) {
        if (!this.budgetReported) {
          const what = this.included >= maxIncludedFiles ? `more than ${maxIncludedFiles} files included in all` : `more than ${maxTotalConfigBytes} bytes of configuration read in all`;
          this.sink.error('CONFIG_INCLUDE', where, `${node.name}: ${what} (wildcards that include each other?); the rest is not read`);
        }
        this.budgetReported = true;
        return children;
      }
      let read = this.fileCache.get(file);
      if (read === undefined) {
        read = readRegularFile(file, maxConfigFileBytes);
        this.fileCache.set(file, read);
      }
      if (read.error !== undefined) {
        this.sink.error('CONFIG_INCLUDE', where, `${node.name}: cannot read ${file}: ${read.error}`);
        continue;
      }
      this.included += 1;
      children.push(...this.readFile(file, read.text));
    }
    return children;
  }
}

/** Reads `text` as the main config file `file` and resolves it. */
export function buildTree(text: string, file: string, options: LoadOptions = {}): TreeResult {
  const builder = new TreeBuilder(options, file);
  const nodes = builder.readFile(file, text);
  return {
    nodes,
    diagnostics: sortDiagnostics(builder.sink.list, builder.files),
    defines: builder.defines(),
    loadedModules: builder.loaded,
    serverRoot: builder.serverRoot,
    files: builder.files,
  };
}

/** Reads the main file; an unreadable file is one diagnostic on the file itself (line 0). */
export function readMainFile(file: string): { text: string | undefined; diagnostic: Diagnostic | undefined } {
  const read = readRegularFile(file, maxConfigFileBytes);
  if (read.error === undefined) return { text: read.text, diagnostic: undefined };
  const reason = read.error === 'ENOENT' ? 'no such file' : read.error;
  return { text: undefined, diagnostic: { severity: 'error', code: 'CONFIG_INCLUDE', loc: { file, line: 0, column: 0 }, message: `cannot read the configuration file: ${reason}` } };
}

export function resolveTree(file: string, options: LoadOptions = {}): { nodes: ConfigNode[]; diagnostics: Diagnostic[] } {
  const path = resolve(file);
  const { text, diagnostic } = readMainFile(path);
  if (text === undefined) return { nodes: [], diagnostics: diagnostic ? [diagnostic] : [] };
  const { nodes, diagnostics } = buildTree(text, path, options);
  return { nodes, diagnostics };
}
