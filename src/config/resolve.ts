// The resolved directive tree (tree.ts) → the typed GatewayConfig, checking every schema
// directive's context, argument count and value. Endpoint settings inherit server → vhost → Location.
import { isLoopbackHost } from './loopback.js';
import { defaultNodeName, parseClusterName, parseRedisUrl } from './cluster-values.js';
import { statSync } from 'node:fs';
import type { SourceLocation } from '../errors.js';
import type { DiagnosticSink } from './diagnostics.js';
import { parseLocationMatch, sameMatch } from './location-match.js';
import type { EndpointConfig, GatewayConfig, HandlerSpec, LocationMatch, VirtualHostConfig } from './model.js';
import { realPath } from './paths.js';
import { maxTokenFileBytes, readRegularFile } from './read-file.js';
import { RemoteIpSetting } from './remote-ip.js';
import { argumentCountProblem, defaultEndpointSettings, defaultProcessConfig, findDirective, spelledName, type DirectiveContext, type DirectiveSpec, type ModelDirective } from './schema.js';
import { combine, mergeSettings, type Overrides } from './settings.js';
import { finishTls, recordTlsLine, type TlsLines } from './tls.js';
import { misspeltDirective } from './suggest.js';
import type { ResolvedNode, TreeResult } from './tree.js';
import { parseHostPort, parseLogLevel, parseOctalMode, parseSeconds, parseWholeNumber, ValueError } from './values.js';

interface VhostScope {
  config: VirtualHostConfig;
  overrides: Overrides;
}

interface LocationScope {
  match: LocationMatch | undefined;
  loc: SourceLocation;
  overrides: Overrides;
  handler: HandlerSpec | undefined;
  /** The `SetHandler websocket-handler` line, unless a later SetHandler replaced it. */
  marker: SourceLocation | undefined;
  /** A misspelt directive was reported inside: the pairing check would only repeat it. */
  misspelt: boolean;
}

interface Frame {
  context: DirectiveContext | 'foreign';
  /** The innermost Apache section wsgate does not serve (<Directory>, <Files>, …). */
  foreign: string | undefined;
  vhost: VhostScope;
  location: LocationScope | undefined;
}

interface PendingEndpoint {
  vhost: VhostScope;
  location: LocationScope & { match: LocationMatch; handler: HandlerSpec };
  order: number;
}

/** A <Location> with WebSocket settings but no handler: Apache merges it into requests its match covers. */
interface SettingsOnlyLocation {
  vhost: VhostScope;
  match: LocationMatch;
  overrides: Overrides;
  loc: SourceLocation;
  order: number;
  used: boolean;
}

const transparent = new Set(['ifdefine', 'ifmodule']);
const locationSections = new Set(['location', 'locationmatch']);
const contextText: Record<DirectiveContext, string> = { server: 'the main server config', vhost: '<VirtualHost>', location: '<Location>/<LocationMatch>' };

export class ModelBuilder {
  private readonly main: VhostScope;
  private readonly config: GatewayConfig;
  private readonly pending: PendingEndpoint[] = [];
  private readonly settingsOnly: SettingsOnlyLocation[] = [];
  private readonly remoteIp: RemoteIpSetting;
  private order = 0;
  /** WebSocketCluster… lines; a cluster exists only when the Redis URL is given. */
  private readonly clusterLines: { redis?: string; name?: string; node?: string; loc?: SourceLocation } = {};
  /** SSL* lines per server/vhost, applied by finishTls once every vhost is known. */
  private readonly tlsLines = new Map<VirtualHostConfig, TlsLines>();

  constructor(
    private readonly tree: TreeResult,
    file: string,
    private readonly sink: DiagnosticSink,
    private readonly sysroot: string | undefined,
  ) {
    const mainServer: VirtualHostConfig = { addresses: [], serverName: undefined, serverAliases: [], isMain: true, tls: false, loc: undefined };
    this.main = { config: mainServer, overrides: {} };
    this.config = {
      file,
      serverRoot: tree.serverRoot,
      listen: [],
      logLevel: 'info',
      mainServer,
      virtualHosts: [],
      endpoints: [],
      loadedModules: tree.loadedModules,
      defines: tree.defines,
      remoteIp: { header: undefined, trustedProxies: [] },
      control: { socket: undefined, listen: undefined, token: undefined },
      processes: defaultProcessConfig(),
      ignored: [],
    };
    this.remoteIp = new RemoteIpSetting(this.config.remoteIp, sink);
  }

  build(): GatewayConfig {
    this.walk(this.tree.nodes, { context: 'server', foreign: undefined, vhost: this.main, location: undefined });
    this.config.endpoints = this.pending.map((p) => this.finishEndpoint(p));
    this.config.connectionLog = this.main.overrides.connectionLog ?? defaultEndpointSettings().connectionLog;
    for (const s of this.settingsOnly.filter((x) => !x.used)) {
      this.sink.warning('CONFIG_DIRECTIVE', s.loc, 'WebSocket settings in a <Location> that is not a WebSocket endpoint (no SetHandler websocket-handler) have no effect');
    }
    this.finishCluster();
    finishTls(this.config, this.tlsLines, this.sink);
    const { listen, token } = this.config.control;
    if (listen !== undefined && token === undefined && !isLoopbackHost(listen.host)) {
      this.sink.error(
        'CONFIG_VALUE',
        listen.loc,
        `WebSocketControlListen ${listen.host}:${listen.port} is not a loopback address: set WebSocketControlToken (or WebSocketControlTokenFile) before exposing the control API`,
      );
    }
    const metrics = this.config.control.metricsListen;
    if (metrics !== undefined && token === undefined && !isLoopbackHost(metrics.host)) {
      this.sink.error(
        'CONFIG_VALUE',
        metrics.loc,
        `WebSocketMetricsListen ${metrics.host}:${metrics.port} is not a loopback address: set WebSocketControlToken (or WebSocketControlTokenFile) before exposing the metrics`,
      );
    }
    return this.config;
  }

  private walk(nodes: readonly ResolvedNode[], frame: Frame): void {
    for (const node of nodes) {
      const kind = node.name.toLowerCase();
      if (kind === 'include' || kind === 'includeoptional') {
        this.directive(node, frame);
        this.walk(node.children ?? [], frame);
      } else if (!node.children) this.directive(node, frame);
      else if (transparent.has(kind)) this.walk(node.children, frame);
      else if (kind === 'virtualhost') this.virtualHost(node, frame);
      else if (locationSections.has(kind)) this.location(node, frame);
      else {
        this.config.ignored.push({ name: node.name, loc: node.loc });
        this.walk(node.children, { ...frame, context: 'foreign', foreign: node.name });
      }
    }
  }

  /** Reports a misplaced <VirtualHost>/<Location> once. Its body is then checked as if the section
   *  were where it belongs (its own mistakes still count), but it serves nothing. */
  private misplaced(node: ResolvedNode, frame: Frame): boolean {
    const inside = frame.foreign ?? (frame.context === 'location' ? 'Location' : frame.context === 'vhost' ? 'VirtualHost' : undefined);
    const allowed = node.name.toLowerCase() === 'virtualhost' ? frame.context === 'server' : frame.context === 'server' || frame.context === 'vhost';
    if (allowed) return false;
    this.sink.error('CONFIG_CONTEXT', node.loc, `<${node.name}> cannot occur within <${inside ?? '?'}> section`);
    return true;
  }

  private virtualHost(node: ResolvedNode, frame: Frame): void {
    const misplaced = this.misplaced(node, frame);
    if (node.args.length === 0) this.sink.error('CONFIG_SYNTAX', node.loc, '<VirtualHost> needs at least one address, e.g. <VirtualHost *:80>');
    const config: VirtualHostConfig = { addresses: node.args, serverName: undefined, serverAliases: [], isMain: false, tls: false, loc: node.loc };
    if (!misplaced) this.config.virtualHosts.push(config);
    this.walk(node.children ?? [], { context: 'vhost', foreign: undefined, vhost: { config, overrides: {} }, location: undefined });
  }

  private location(node: ResolvedNode, frame: Frame): void {
    const misplaced = this.misplaced(node, frame);
    const scope: LocationScope = { match: undefined, loc: node.loc, overrides: {}, handler: undefined, marker: undefined, misspelt: false };
    this.walk(node.children ?? [], { context: 'location', foreign: undefined, vhost: frame.vhost, location: scope });
    // Read after the body: whether a regex wsgate cannot run matters depends on the section serving WebSocket.
    scope.match = parseLocationMatch(node, this.sink, scope.marker !== undefined || scope.handler !== undefined);
    const { match, handler, marker } = scope;
    if (scope.misspelt && (!handler || !marker)) return;
    if (handler && !marker) {
      this.sink.error('CONFIG_DIRECTIVE', handler.loc, 'WebSocketHandler without `SetHandler websocket-handler` in this <Location>: mod_websocket needs both');
    } else if (marker && !handler) {
      this.sink.error('CONFIG_DIRECTIVE', marker, 'SetHandler websocket-handler without a WebSocketHandler in this <Location>: add `WebSocketHandler PATH INIT` or `WebSocketHandler PATH.js`');
    } else if (misplaced) {
      return; // checked, but Apache would not start: it serves nothing
    } else if (handler && match) {
      this.pending.push({ vhost: frame.vhost, location: { ...scope, match, handler }, order: this.order++ });
    } else if (!handler && match && Object.keys(scope.overrides).length > 0) {
      this.settingsOnly.push({ vhost: frame.vhost, match, overrides: scope.overrides, loc: node.loc, order: this.order++, used: false });
    }
  }

  private directive(node: ResolvedNode, frame: Frame): void {
    const spec = findDirective(node.name);
    if (!spec) {
      const misspelt = misspeltDirective(node.name);
      if (misspelt !== undefined) {
        this.sink.error('CONFIG_DIRECTIVE', node.loc, misspelt);
        if (frame.location) frame.location.misspelt = true;
      } else this.config.ignored.push({ name: node.name, loc: node.loc });
      return;
    }
    if (spec.name === 'SetHandler' && node.args.length === 1 && node.args[0]?.toLowerCase() !== 'websocket-handler') {
      if (frame.location) frame.location.marker = undefined; // Apache: the last SetHandler wins
      this.config.ignored.push({ name: node.name, loc: node.loc });
      return;
    }
    const name = spelledName(spec, node.name);
    if (!this.contextAllows(spec, name, node, frame)) return;
    const countProblem = argumentCountProblem(spec, node.args.length, name);
    const hint = node.args.some((a) => a.startsWith('#')) ? " ('#' starts a comment only at the beginning of a line, as in Apache)" : '';
    if (countProblem !== undefined) {
      this.sink.error('CONFIG_DIRECTIVE', node.loc, countProblem + hint);
      return;
    }
    try {
      if (spec.kind === 'endpoint') this.setting(spec, name, node, frame);
      else this.model(spec, node, frame);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      this.sink.error('CONFIG_VALUE', node.argLocs[err.argIndex] ?? node.loc, err.message + hint);
    }
  }

  /** Reports and returns false when `spec` may not appear where `node` is. */
  private contextAllows(spec: DirectiveSpec, name: string, node: ResolvedNode, frame: Frame): boolean {
    const structural = spec.kind === 'model' && (spec.sets === 'include' || spec.sets === 'defines');
    if (structural) return true;
    const ignoredElsewhere = spec.kind === 'model' && spec.ignoredElsewhere;
    if (frame.context !== 'foreign' && spec.contexts.includes(frame.context)) return true;
    if (ignoredElsewhere) {
      this.config.ignored.push({ name: node.name, loc: node.loc });
      return false;
    }
    const allowed = spec.contexts.map((c) => contextText[c]).join(', ');
    if (frame.context === 'foreign') {
      const routing = spec.kind === 'endpoint' || spec.contexts.includes('location');
      const why = /^if/i.test(frame.foreign ?? '')
        ? `wsgate does not evaluate <${frame.foreign}>; move ${name} out of it`
        : `${routing ? 'wsgate routes requests by URL only, so ' : ''}it belongs in ${allowed}`;
      this.sink.error('CONFIG_CONTEXT', node.loc, `${name} cannot be used inside <${frame.foreign}>: ${why}`);
    } else {
      this.sink.error('CONFIG_CONTEXT', node.loc, `${name} is not allowed in ${contextText[frame.context]}; it belongs in ${allowed}`);
    }
    return false;
  }

  private setting(spec: DirectiveSpec & { kind: 'endpoint' }, name: string, node: ResolvedNode, frame: Frame): void {
    const overrides: Record<string, unknown> = frame.location?.overrides ?? frame.vhost.overrides;
    overrides[spec.field] = combine(spec.append, overrides[spec.field], spec.parse(node.args, name));
  }

  private model(spec: ModelDirective, node: ResolvedNode, frame: Frame): void {
    const [a = ''] = node.args;
    const c = this.config;
    switch (spec.sets) {
      case 'serverRoot':
      case 'include':
      case 'defines':
      case 'loadedModules':
        return; // applied while the tree was read (tree.ts)
      case 'endpoint':
        if (frame.location) frame.location.marker = node.loc;
        return;
      case 'endpoint.handler':
        if (frame.location) frame.location.handler = this.handler(node);
        return;
      case 'listen':
        return this.listen(node, a);
      case 'logLevel':
        c.logLevel = parseLogLevel(node.args) ?? c.logLevel;
        return;
      case 'vhost.serverName':
        frame.vhost.config.serverName = a;
        return;
      case 'vhost.serverAliases':
        frame.vhost.config.serverAliases.push(...node.args);
        return;
      case 'vhost.tls': {
        const v = a.toLowerCase();
        if (v !== 'on' && v !== 'off' && v !== 'optional') throw new ValueError(`SSLEngine must be On, Off or Optional, not '${a}'`);
        frame.vhost.config.tls = v === 'on';
        this.tlsOf(frame.vhost.config).engine = { on: v === 'on', loc: node.loc };
        return;
      }
      case 'vhost.ssl':
        recordTlsLine(this.tlsOf(frame.vhost.config), spec.name, node.args, node.loc, node.argLocs, { serverRoot: node.serverRoot, sysroot: this.sysroot });
        return;
      case 'remoteIp.header':
      case 'remoteIp.trustedProxies':
        return this.remoteIp.apply(spec, node, frame.context === 'vhost');
      case 'control.socket': {
        const mode = node.args[1] === undefined ? 0o660 : parseOctalMode(node.args[1], spec.name);
        c.control.socket = { path: realPath(a, node.serverRoot, this.sysroot), mode, loc: node.loc };
        return;
      }
      case 'control.listen': {
        const { host, port } = parseHostPort(a, spec.name);
        c.control.listen = { host: host ?? '127.0.0.1', port, loc: node.loc };
        return;
      }
      case 'control.metricsListen': {
        const { host, port } = parseHostPort(a, spec.name);
        c.control.metricsListen = { host: host ?? '127.0.0.1', port, loc: node.loc };
        return;
      }
      case 'control.token':
        c.control.token = spec.name === 'WebSocketControlTokenFile' ? this.readToken(node, a) : a;
        return;
      case 'control.maxPayload':
        c.control.maxPayload = parseWholeNumber(a, spec.name);
        if (c.control.maxPayload < 1 || c.control.maxPayload > 1024 ** 3) throw new ValueError(`${spec.name} takes 1 to ${1024 ** 3} bytes, not ${a}`);
        return;
      case 'processes.workers':
        c.processes.workers = a.toLowerCase() === 'auto' ? 'auto' : parseWholeNumber(a, spec.name);
        return;
      case 'processes.reloadDeadline':
        c.processes.reloadDeadline = parseSeconds(a, spec.name, true);
        return;
      case 'processes.pidFile':
        c.processes.pidFile = realPath(a, node.serverRoot, this.sysroot);
        return;
      case 'cluster.redis':
        this.clusterLines.redis = parseRedisUrl(a, spec.name);
        return;
      case 'cluster.name':
        this.clusterLines.name = parseClusterName(a, spec.name);
        this.clusterLines.loc ??= node.loc;
        return;
      case 'cluster.node':
        this.clusterLines.node = parseClusterName(a, spec.name);
        this.clusterLines.loc ??= node.loc;
        return;
      default: {
        const unhandled: never = spec.sets;
        throw new Error(`no resolver for ${String(unhandled)}`);
      }
    }
  }

  private finishCluster(): void {
    const { redis, name, node, loc } = this.clusterLines;
    if (redis === undefined) {
      if (loc) this.sink.warning('CONFIG_VALUE', loc, 'WebSocketClusterName and WebSocketNodeName have no effect without WebSocketClusterRedis');
      return;
    }
    this.config.cluster = { redis, name: name ?? 'wsgate', node: node ?? defaultNodeName() };
  }

  private tlsOf(vhost: VirtualHostConfig): TlsLines {
    let lines = this.tlsLines.get(vhost);
    if (!lines) this.tlsLines.set(vhost, (lines = {}));
    return lines;
  }

  private listen(node: ResolvedNode, value: string): void {
    const { host, port } = parseHostPort(value, 'Listen');
    const written = node.args[1];
    const protocol = written?.toLowerCase();
    if (protocol !== undefined && protocol !== 'http' && protocol !== 'https') {
      throw new ValueError(`Listen: wsgate speaks http or https, not '${written}'`, 1);
    }
    const same = this.config.listen.find((l) => l.host === host && l.port === port);
    if (same) {
      const where = same.loc ? ` (first at line ${same.loc.line} of ${same.loc.file})` : '';
      throw new ValueError(`Listen ${value} is defined twice${where}: Apache refuses multiple listeners on the same address`);
    }
    this.config.listen.push({ host, port, loc: node.loc, ...(protocol === 'https' ? { protocol } : {}) });
  }

  private readToken(node: ResolvedNode, path: string): string {
    const file = realPath(path, node.serverRoot, this.sysroot);
    // A regular file of bounded size: /dev/zero or a FIFO here must not hang the loader.
    const read = readRegularFile(file, maxTokenFileBytes);
    if (read.error !== undefined) throw new ValueError(`WebSocketControlTokenFile: cannot read ${file}: ${read.error}`);
    const token = read.text.trim();
    if (token === '') throw new ValueError(`WebSocketControlTokenFile: ${file} is empty`);
    return token;
  }

  private handler(node: ResolvedNode): HandlerSpec {
    const [path = '', second] = node.args;
    const file = realPath(path, node.serverRoot, this.sysroot);
    const isJs = /\.(?:m|c)?js$/i.test(path);
    if (/\.[mc]?ts$/i.test(path)) {
      this.sink.error('CONFIG_HANDLER', node.argLocs[0] ?? node.loc, `WebSocketHandler ${path}: compile TypeScript handlers to .js or .mjs and name that file`);
    } else if (!isJs && second === undefined) {
      // Reported here rather than thrown so the Location still counts as having its handler.
      const message = `WebSocketHandler ${path}: a native plugin needs the name of its init function (WebSocketHandler PATH INIT, e.g. echo_init)`;
      this.sink.error('CONFIG_VALUE', node.argLocs[0] ?? node.loc, message);
    }
    let isFile = false;
    try {
      isFile = statSync(file).isFile();
    } catch {
      isFile = false;
    }
    if (!isFile) this.sink.error('CONFIG_HANDLER', node.argLocs[0] ?? node.loc, `WebSocketHandler: ${file} does not exist or is not a file`);
    return isJs ? { kind: 'js', path: file, exportName: second, loc: node.loc } : { kind: 'native', path: file, init: second ?? '', loc: node.loc };
  }

  private finishEndpoint({ vhost, location, order }: PendingEndpoint): EndpointConfig {
    const settings = defaultEndpointSettings();
    for (const layer of [this.main.overrides, vhost === this.main ? {} : vhost.overrides]) mergeSettings(settings, layer);
    // Same-match <Location> blocks merge in file order, as Apache merges sections (later wins).
    const sections = this.settingsOnly.filter((s) => s.vhost === vhost && sameMatch(s.match, location.match));
    const layers = [...sections, { overrides: location.overrides, order }].sort((a, b) => a.order - b.order);
    for (const s of sections) s.used = true;
    for (const layer of layers) mergeSettings(settings, layer.overrides);
    if (settings.originCheck === 'trusted' && settings.trustedOrigins.length === 0) {
      this.sink.warning('CONFIG_VALUE', location.loc, 'WebSocketOriginCheck Trusted with no WebSocketTrustedOrigin: every browser connection to this endpoint will be refused');
    }
    return { vhost: vhost.config, match: location.match, handler: location.handler, settings, loc: location.loc };
  }
}
