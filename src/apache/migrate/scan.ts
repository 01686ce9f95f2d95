// Finds what mod_websocket configures in a resolved Apache tree: endpoints (Location/LocationMatch
// with `SetHandler websocket-handler` + `WebSocketHandler`), the module's LoadModule lines, and what
// cannot move to the gateway (Directory/Files contexts, .htaccess, half-configured Locations).
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { ResolvedNode } from '../../config/tree.js';
import { findDirective } from '../../config/schema.js';
import type { LocationMatch, SourceLocation } from '../../config/model.js';
import { DiagnosticSink } from '../../config/diagnostics.js';
import { parseLocationMatch } from '../../config/location-match.js';

export interface FoundVhost {
  isMain: boolean;
  addresses: string[];
  serverName: string | undefined;
  serverAliases: string[];
  tls: boolean;
  loc: SourceLocation | undefined;
}

export interface FoundEndpoint {
  vhost: FoundVhost;
  match: LocationMatch;
  node: ResolvedNode;
  /** WebSocketHandler arguments, the path made absolute against Apache's ServerRoot. */
  handler: { args: string[]; loc: SourceLocation };
  /** Directives wsgate understands per Location (MaxMessageSize, SupportDraft75, WebSocket…), in order. */
  settings: ResolvedNode[];
  /** Apache directives of the Location (Require, Auth…): they stay in Apache, in front of the proxy. */
  apacheLines: ResolvedNode[];
}

export type NoteKind = 'unsupported' | 'kept' | 'info';

export interface Note {
  kind: NoteKind;
  loc: SourceLocation;
  text: string;
}

export interface TreeScan {
  endpoints: FoundEndpoint[];
  /** `LoadModule websocket_module …` and `websocket_draft76_module` lines. */
  loadModules: ResolvedNode[];
  /** Every mod_websocket directive: Apache rejects them once the module is gone. */
  moduleLines: ResolvedNode[];
  /** Module lines a note already explains (in <Directory>, in a half-configured Location). */
  explained: Set<ResolvedNode>;
  /** `<IfModule mod_websocket.c>` / `<IfModule mod_websocket_draft76.c>` sections (true while it was loaded). */
  moduleConditions: ResolvedNode[];
  notes: Note[];
}

const websocketModules = new Set(['websocket_module', 'websocket_draft76_module']);
const conditionSections = new Set(['ifmodule', 'ifdefine', 'ifversion', 'ifdirective', 'iffile', 'ifsection']);
const filesystemSections = new Set(['directory', 'directorymatch', 'files', 'filesmatch', 'if', 'elseif', 'else', 'proxy', 'proxymatch']);
const is = (node: ResolvedNode, name: string): boolean => node.name.toLowerCase() === name;
const isWebSocketHandlerLine = (n: ResolvedNode): boolean =>
  (is(n, 'sethandler') && n.args[0]?.toLowerCase() === 'websocket-handler') || is(n, 'websockethandler');

const websocketModuleName = /^(mod_websocket(_draft76)?\.c|websocket(_draft76)?_module)$/i;
export const isWebSocketCondition = (n: ResolvedNode): boolean => is(n, 'ifmodule') && websocketModuleName.test(n.args[0] ?? '');

/** The original module's directives and those the maintained fork (apache-websocket 0.1.2+) added:
 *  Apache refuses any of them once the module is gone. */
const moduleDirectives = new Set([
  'websockethandler',
  'maxmessagesize',
  'supportdraft75',
  'websocketmaxmessagesize',
  'websocketorigincheck',
  'websockettrustedorigin',
  'websocketallowreservedstatuscodes',
]);
const isModuleLine = (n: ResolvedNode): boolean => moduleDirectives.has(n.name.toLowerCase()) || isWebSocketHandlerLine(n);

/** Directives inside conditions count as direct children (a true condition keeps its children). */
function flatChildren(node: ResolvedNode): ResolvedNode[] {
  return (node.children ?? []).flatMap((c) => (conditionSections.has(c.name.toLowerCase()) ? flatChildren(c) : [c]));
}

function containsWebSocketLines(node: ResolvedNode): ResolvedNode | undefined {
  for (const child of node.children ?? []) {
    if (isWebSocketHandlerLine(child)) return child;
    const inner = containsWebSocketLines(child);
    if (inner) return inner;
  }
  return undefined;
}

function vhostOf(node: ResolvedNode): FoundVhost {
  const lines = flatChildren(node);
  const find = (name: string) => lines.find((l) => is(l, name));
  return {
    isMain: false,
    addresses: node.args,
    serverName: find('servername')?.args[0],
    serverAliases: lines.filter((l) => is(l, 'serveralias')).flatMap((l) => l.args),
    tls: find('sslengine')?.args[0]?.toLowerCase() === 'on',
    loc: node.loc,
  };
}

const mainVhost: FoundVhost = { isMain: true, addresses: [], serverName: undefined, serverAliases: [], tls: false, loc: undefined };

/** Read as wsgate reads it (wildcards, PCRE-only syntax), so the migrated config means the same.
 *  A pattern wsgate cannot use is left to `wsgate check` of the written config to report. */
function locationMatch(node: ResolvedNode): LocationMatch | undefined {
  const match = parseLocationMatch(node, new DiagnosticSink(), true);
  if (match !== undefined) return match;
  const source = is(node, 'locationmatch') ? node.args[0] : node.args[1];
  return source === undefined ? undefined : { kind: 'regex', source, regex: NEVER };
}

const NEVER = /(?!)/;

/** Per-Location directives of wsgate's schema (besides the handler itself). */
function isGatewaySetting(node: ResolvedNode): boolean {
  const spec = findDirective(node.name);
  return spec !== undefined && spec.contexts.includes('location') && !isWebSocketHandlerLine(node);
}

class Scanner {
  readonly scan: TreeScan = { endpoints: [], loadModules: [], moduleLines: [], explained: new Set(), moduleConditions: [], notes: [] };

  walk(nodes: readonly ResolvedNode[], vhost: FoundVhost): void {
    for (const node of nodes) {
      const name = node.name.toLowerCase();
      if (isModuleLine(node)) this.scan.moduleLines.push(node);
      if (name === 'loadmodule' && websocketModules.has(node.args[0] ?? '')) this.scan.loadModules.push(node);
      else if (name === 'include' || name === 'includeoptional') this.walk(node.children ?? [], vhost);
      else if (conditionSections.has(name)) {
        if (isWebSocketCondition(node)) this.scan.moduleConditions.push(node);
        this.walk(node.children ?? [], vhost);
      }
      else if (name === 'virtualhost') this.walk(node.children ?? [], vhostOf(node));
      else if (name === 'location' || name === 'locationmatch') this.location(node, vhost);
      else if (filesystemSections.has(name)) this.filesystemSection(node);
    }
  }

  private location(node: ResolvedNode, vhost: FoundVhost): void {
    const lines = flatChildren(node);
    this.scan.moduleLines.push(...lines.filter(isModuleLine));
    const setHandler = lines.find((l) => is(l, 'sethandler') && l.args[0]?.toLowerCase() === 'websocket-handler');
    const handler = lines.find((l) => is(l, 'websockethandler'));
    if (!setHandler && !handler) return;
    const match = locationMatch(node);
    if (!setHandler || !handler || !handler.args[0] || !match) {
      const why = !match ? 'its path or regex cannot be read' : !setHandler ? 'WebSocketHandler without SetHandler websocket-handler (mod_websocket ignores it)' : 'SetHandler websocket-handler without WebSocketHandler';
      this.scan.notes.push({ kind: 'unsupported', loc: node.loc, text: `<${node.name} ${node.args.join(' ')}> not migrated: ${why}` });
      for (const line of lines.filter(isModuleLine)) this.scan.explained.add(line);
      return;
    }
    const [path, ...rest] = handler.args;
    const absolute = isAbsolute(path) ? path : resolve(handler.serverRoot, path);
    if (!existsSync(absolute)) {
      this.scan.notes.push({ kind: 'info', loc: handler.loc, text: `handler ${absolute} does not exist here; wsgate check will report it` });
    }
    const apacheLines = (node.children ?? []).filter((c) => !isWebSocketHandlerLine(c) && !isGatewaySetting(c));
    for (const line of apacheLines) {
      this.scan.notes.push({ kind: 'kept', loc: line.loc, text: `\`${line.name} ${line.args.join(' ')}\` stays in Apache, in the proxying <${node.name}>` });
    }
    this.scan.endpoints.push({
      vhost,
      match,
      node,
      handler: { args: [absolute, ...rest], loc: handler.loc },
      settings: lines.filter(isGatewaySetting),
      apacheLines,
    });
  }

  private filesystemSection(node: ResolvedNode): void {
    this.collectModuleLines(node);
    const line = containsWebSocketLines(node);
    if (line) {
      this.scan.notes.push({
        kind: 'unsupported',
        loc: line.loc,
        text: `\`${line.name} ${line.args.join(' ')}\` inside <${node.name} ${node.args.join(' ')}> (line ${node.loc.line}): the gateway routes by URL only; move it to a <Location> by hand`,
      });
    }
    if (is(node, 'directory')) {
      for (const child of flatChildren(node)) if (is(child, 'allowoverride')) this.allowOverride(child, node);
    }
  }

  private collectModuleLines(node: ResolvedNode): void {
    for (const child of node.children ?? []) {
      if (isModuleLine(child)) {
        this.scan.moduleLines.push(child);
        this.scan.explained.add(child);
      }
      this.collectModuleLines(child);
    }
  }

  private allowOverride(node: ResolvedNode, directory: ResolvedNode): void {
    if (node.args[0]?.toLowerCase() === 'none') return;
    const dir = directory.args[0] ?? '';
    const htaccess = join(dir, '.htaccess');
    const mentions = existsSync(htaccess) && /websocket/i.test(readFileSync(htaccess, 'utf8'));
    this.scan.notes.push({
      kind: mentions ? 'unsupported' : 'info',
      loc: node.loc,
      text: mentions
        ? `${htaccess} configures mod_websocket: .htaccess files are not read by wsgate; move those lines to a <Location> by hand`
        : `AllowOverride ${node.args.join(' ')} for ${dir}: .htaccess files there could hold mod_websocket lines, which wsgate does not read; check them by hand`,
    });
  }
}

export function scanTree(nodes: readonly ResolvedNode[]): TreeScan {
  const scanner = new Scanner();
  scanner.walk(nodes, mainVhost);
  return scanner.scan;
}
