// `wsgate migrate`: reads a whole Apache tree that uses mod_websocket and produces the gateway's
// config, the Apache files with the mod_websocket blocks replaced by proxy blocks, and a report.
// Pure apart from reading the tree: the same tree gives the same files.
import { defaultProcessConfig } from '../../config/schema.js';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Diagnostic, GatewayConfig } from '../../config/model.js';
import { buildTree, readMainFile } from '../../config/tree.js';
import { WsgateError } from '../../errors.js';
import type { Backend } from '../backend.js';
import { generateApacheConfig, locationFormatter, renderGlobalPart } from '../generate.js';
import { inferModulesDir } from '../modules.js';
import type { ProxyStyle } from '../style.js';
import { applyReplacements, conditionReplacements, endpointReplacements, loadModuleReplacements, strayLineReplacements, type Replacement } from './apache-edit.js';
import { mergeEndpoints, type MergedEndpoint } from './merge.js';
import { renderReport } from './report.js';
import { scanTree, type Note } from './scan.js';
import { FileCache } from './sections.js';
import { formatListen, renderWsgateConf, type ListenSpec } from './wsgate-conf.js';

export interface MigrateOptions {
  serverRoot?: string;
  listen?: ListenSpec;
  style?: ProxyStyle;
  /** Default: the directory of the tree's LoadModule lines (mod_websocket's first), else 'modules'. */
  modulesDir?: string;
  env?: NodeJS.ProcessEnv;
  /** How the report names the source (default: the path given). */
  sourceName?: string;
}

export interface MigrationResult {
  /** Output files by path relative to the output directory. */
  files: Map<string, string>;
  report: string;
  endpoints: MergedEndpoint[];
  diagnostics: Diagnostic[];
}

export const defaultListen: ListenSpec = { host: '127.0.0.1', port: 8080 };

/** Where a changed Apache file goes under apache/: relative to ServerRoot, or by its absolute path. */
function outputPath(serverRoot: string, file: string): string {
  const rel = relative(serverRoot, file);
  return rel.startsWith('..') || isAbsolute(rel) ? `apache/_root${file}` : `apache/${rel}`;
}

export function migrateApacheTree(file: string, options: MigrateOptions = {}): MigrationResult {
  const path = resolve(file);
  const { text, diagnostic } = readMainFile(path);
  if (text === undefined) throw new WsgateError('IO', diagnostic?.message ?? `cannot read ${path}`, diagnostic ? { loc: diagnostic.loc } : {});
  const tree = buildTree(text, path, { env: options.env ?? process.env, ...(options.serverRoot ? { serverRoot: options.serverRoot } : {}) });
  const serverRoot = tree.serverRoot;
  const where = locationFormatter(serverRoot);
  const notes: Note[] = [];
  const scan = scanTree(tree.nodes);
  notes.push(...scan.notes);
  const endpoints = mergeEndpoints(scan.endpoints, notes);
  const listen = options.listen ?? defaultListen;
  const source = options.sourceName ?? file;

  const backend: Backend = { http: `http://${formatListen(listen)}`, ws: `ws://${formatListen(listen)}` };
  const model: GatewayConfig = {
    file: path,
    serverRoot,
    listen: [{ host: listen.host, port: listen.port, loc: undefined }],
    processes: defaultProcessConfig(),
    logLevel: 'info',
    mainServer: { isMain: true, addresses: [], serverName: undefined, serverAliases: [], tls: false, loc: undefined },
    virtualHosts: [],
    endpoints: endpoints.map((e) => e.config),
    loadedModules: [],
    defines: {},
    remoteIp: { header: 'X-Forwarded-For', trustedProxies: ['127.0.0.1', '::1'] },
    control: { socket: undefined, listen: undefined, token: undefined },
    ignored: [],
  };
  const generateOptions = {
    backend,
    sourceName: source,
    // mod_websocket's own LoadModule line first, then any other.
    modulesDir: options.modulesDir ?? inferModulesDir([...scan.loadModules.map((n) => n.args[1]), ...tree.loadedModules.map((m) => m.path)]),
    ...(options.style ? { style: options.style } : {}),
  };
  const global = renderGlobalPart(model, generateOptions, 'wsgate migrate');
  const files = new FileCache();
  const replacements: Replacement[] = [
    ...loadModuleReplacements(scan.loadModules, global.lines),
    ...endpointReplacements(files, endpoints, global.blockContext),
    ...conditionReplacements(files, scan.moduleConditions),
  ];
  replacements.push(...strayLineReplacements(files, scan.moduleLines, replacements.map((r) => r.range), scan.explained, notes));
  if (scan.loadModules.length === 0 && endpoints.length > 0) {
    // No LoadModule line to replace: the modules go at the top of the main file.
    replacements.push({ range: { file: path, first: 1, last: 0 }, lines: global.lines, summary: 'no LoadModule websocket_module found → the proxy modules at the top' });
  }
  const out = new Map<string, string>();
  out.set('wsgate.conf', renderWsgateConf(endpoints, listen, source, where));
  out.set('apache-wsgate.conf', generateApacheConfig(model, { ...generateOptions }).text);
  const byFile = new Map<string, Replacement[]>();
  for (const r of replacements) byFile.set(r.range.file, [...(byFile.get(r.range.file) ?? []), r]);
  const changed = [...byFile.keys()].sort();
  for (const changedFile of changed) {
    out.set(outputPath(serverRoot, changedFile), applyReplacements(files.get(changedFile), byFile.get(changedFile) ?? []));
  }
  for (const d of tree.diagnostics) {
    if (d.severity === 'error') notes.push({ kind: 'info', loc: d.loc, text: `reading the tree: ${d.message}` });
  }
  const sortedNotes = [...notes].sort((a, b) => (a.loc.file === b.loc.file ? a.loc.line - b.loc.line : a.loc.file < b.loc.file ? -1 : 1));
  const report = renderReport({
    source,
    serverRoot,
    endpoints,
    replacements: [...replacements].sort((a, b) => (a.range.file === b.range.file ? a.range.first - b.range.first : a.range.file < b.range.file ? -1 : 1)),
    changedFiles: changed.map((f) => outputPath(serverRoot, f).slice('apache/'.length)),
    notes: sortedNotes,
    listen: formatListen(listen),
    where,
  });
  out.set('MIGRATION.md', report);
  return { files: out, report, endpoints, diagnostics: tree.diagnostics };
}
