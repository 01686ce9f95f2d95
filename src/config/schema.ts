// Every directive wsgate gives meaning to, defined once as data: arguments, contexts, default,
// documentation and what it sets. Used by the resolver, `wsgate check`, the README reference
// (docs.ts) and the Apache generator.
import type { EndpointSettings, ProcessConfig } from './model.js';
import {
  parseOnOff,
  parseOrigin,
  parseOriginCheck,
  parsePositiveBytes,
  parseSeconds,
  parseWholeNumber,
  parseWindowBits,
} from './values.js';

/** server = main server config; vhost = inside <VirtualHost>; location = inside <Location>/<LocationMatch>. */
export type DirectiveContext = 'server' | 'vhost' | 'location';

export type DirectiveGroup = 'mod_websocket' | 'wsgate' | 'control' | 'remoteip' | 'ssl' | 'apache';

interface DirectiveBase {
  name: string;
  /** Other names for the same directive (e.g. a later module version's), found by findDirective
   *  and shown by the reference. Messages name the directive as the config wrote it. */
  aliases?: readonly string[];
  /** Usage line, e.g. 'MaxMessageSize BYTES'. */
  syntax: string;
  /** Accepted argument count; max = Infinity for lists. */
  args: { min: number; max: number };
  contexts: readonly DirectiveContext[];
  group: DirectiveGroup;
  doc: string;
}

/** A per-endpoint setting: inherited server → <VirtualHost> → <Location>. */
export interface EndpointDirective<K extends keyof EndpointSettings> extends DirectiveBase {
  kind: 'endpoint';
  field: K;
  default: EndpointSettings[K];
  /** Throws ValueError, naming the directive `name` (as written: a name or an alias). Lists
   *  (append = true) are added to what is inherited. */
  parse: (args: readonly string[], name: string) => EndpointSettings[K];
  append: boolean;
}

type AnyEndpointDirective = { [K in keyof EndpointSettings]: EndpointDirective<K> }[keyof EndpointSettings];

/** What a non-endpoint directive feeds: a model path, or the structure of the config itself. */
export type ModelTarget =
  | 'serverRoot'
  | 'listen'
  | 'logLevel'
  | 'loadedModules'
  | 'defines'
  | 'include'
  | 'vhost.serverName'
  | 'vhost.serverAliases'
  | 'vhost.tls'
  | 'vhost.ssl'
  | 'endpoint'
  | 'endpoint.handler'
  | 'remoteIp.header'
  | 'remoteIp.trustedProxies'
  | 'control.socket'
  | 'control.listen'
  | 'control.metricsListen'
  | 'control.token'
  | 'control.maxPayload'
  | 'processes.workers'
  | 'processes.reloadDeadline'
  | 'processes.pidFile'
  | 'cluster.redis'
  | 'cluster.name'
  | 'cluster.node';

export interface ModelDirective extends DirectiveBase {
  kind: 'model';
  sets: ModelTarget;
  /** Shown in the reference; undefined = no default. */
  defaultText: string | undefined;
  /** Where outside `contexts` the directive is Apache's business and silently ignored (e.g. LogLevel in a vhost). */
  ignoredElsewhere: boolean;
  /** Accepted in a <VirtualHost> as Apache does, but wsgate keeps one server-wide value: a vhost's
   *  line is merged into it, with a warning (client-address trust is decided before the vhost). */
  serverWide: boolean;
}

export type DirectiveSpec = AnyEndpointDirective | ModelDirective;

const perEndpoint: readonly DirectiveContext[] = ['server', 'vhost', 'location'];
const serverOnly: readonly DirectiveContext[] = ['server'];
const anywhere: readonly DirectiveContext[] = ['server', 'vhost', 'location'];
const one = { min: 1, max: 1 };
const list = { min: 1, max: Infinity };

function setting<K extends keyof EndpointSettings>(
  field: K,
  spec: Omit<EndpointDirective<K>, 'kind' | 'field' | 'contexts' | 'args' | 'append'> & { append?: boolean; args?: { min: number; max: number } },
): EndpointDirective<K> {
  return { kind: 'endpoint', field, contexts: perEndpoint, args: spec.args ?? one, append: spec.append ?? false, ...spec };
}

const first = (args: readonly string[]): string => args[0] ?? '';

/** One directive per EndpointSettings field; tsc rejects a missing field or a wrong value type. */
export const endpointDirectives = {
  maxMessageSize: setting('maxMessageSize', {
    name: 'MaxMessageSize', aliases: ['WebSocketMaxMessageSize'], syntax: 'MaxMessageSize BYTES', group: 'mod_websocket', default: 33554432,
    doc: 'Largest whole (reassembled) message in bytes; larger ones close the connection with 1009 (1004 for drafts 7/8), as soon as a frame header announces them, before any payload is read. Control frames count too, each on its own, as in the maintained fork: with 30, a ping over 30 bytes or a close reason over 28 bytes closes with 1009. Plain bytes only: mod_websocket read `64M` as 64. The original module (2012) named it MaxMessageSize; the maintained fork renamed it WebSocketMaxMessageSize in 0.1.2.',
    parse: (a, name) => parsePositiveBytes(first(a), name, true),
  }),
  supportDraft75: setting('supportDraft75', {
    name: 'SupportDraft75', syntax: 'SupportDraft75 On|Off', group: 'mod_websocket', default: false,
    doc: 'Also accept hixie draft-75 handshakes (draft-76 is always accepted).',
    parse: (a, name) => parseOnOff(first(a), name),
  }),
  originCheck: setting('originCheck', {
    name: 'WebSocketOriginCheck', syntax: 'WebSocketOriginCheck Same|Trusted|Off', group: 'wsgate', default: 'same',
    doc: 'Same: the whole Origin (scheme://host:port) must be the page\'s own: the Host (or a trusted proxy\'s X-Forwarded-Host), scheme http, or https after a trusted X-Forwarded-Proto or in an SSLEngine vhost; Trusted: it must be one listed by WebSocketTrustedOrigin, nothing else; Off: no check. Requests without Origin (non-browser clients) are allowed. As the maintained mod_websocket fork.',
    parse: (a) => parseOriginCheck(first(a)),
  }),
  trustedOrigins: setting('trustedOrigins', {
    name: 'WebSocketTrustedOrigin', syntax: 'WebSocketTrustedOrigin ORIGIN...', group: 'wsgate', default: [], append: true, args: list,
    doc: 'Origins (scheme://host[:port]) accepted by `WebSocketOriginCheck Trusted`. Repeatable; adds to the inherited list.',
    parse: (a) => a.map((v, i) => parseOrigin(v, i)),
  }),
  maxConnections: setting('maxConnections', {
    name: 'WebSocketMaxConnections', syntax: 'WebSocketMaxConnections N', group: 'wsgate', default: 0,
    doc: 'Open connections allowed on the endpoint; more are answered 503. 0 = unlimited.',
    parse: (a, name) => parseWholeNumber(first(a), name),
  }),
  pingInterval: setting('pingInterval', {
    name: 'WebSocketPingInterval', syntax: 'WebSocketPingInterval SECONDS', group: 'wsgate', default: 30,
    doc: 'A connection idle this many seconds (nothing received, sent or waiting) is pinged, each on its own phase; one that does not answer within another interval is dropped. Busy connections are never pinged. Keep it below the proxy timeout in front of wsgate. 0 = off.',
    parse: (a, name) => parseSeconds(first(a), name, true),
  }),
  handshakeTimeout: setting('handshakeTimeout', {
    name: 'WebSocketHandshakeTimeout', syntax: 'WebSocketHandshakeTimeout SECONDS', group: 'wsgate', default: 10,
    doc: 'Seconds a client has to complete its opening handshake.',
    parse: (a, name) => parseSeconds(first(a), name, false),
  }),
  closeTimeout: setting('closeTimeout', {
    name: 'WebSocketCloseTimeout', syntax: 'WebSocketCloseTimeout SECONDS', group: 'wsgate', default: 5,
    doc: "Seconds to wait for the peer's close frame before dropping the TCP connection.",
    parse: (a, name) => parseSeconds(first(a), name, false),
  }),
  allowReservedStatusCodes: setting('allowReservedStatusCodes', {
    name: 'WebSocketAllowReservedStatusCodes', syntax: 'WebSocketAllowReservedStatusCodes On|Off', group: 'wsgate', default: false,
    doc: "On: a peer's close frame may carry a code RFC 6455 reserves but has not assigned (1004, 1016–2999); Off: such a close fails the connection with 1002. Codes that must never be sent (1005, 1006, 1015, below 1000, 5000 and up) are refused either way. As the maintained mod_websocket fork.",
    parse: (a, name) => parseOnOff(first(a), name),
  }),
  sendQueueLimit: setting('sendQueueLimit', {
    name: 'WebSocketSendQueueLimit', syntax: 'WebSocketSendQueueLimit BYTES', group: 'wsgate', default: 16777216,
    doc: 'What may wait for a slow reader, counted as memory: each waiting message costs its bytes plus 128. Beyond it the queue is dropped (whole messages) and the connection is closed with 1008, which the peer sees once it reads on; one message larger than the limit still goes through on an empty queue.',
    parse: (a, name) => parsePositiveBytes(first(a), name, false),
  }),
  connectionLog: setting('connectionLog', {
    name: 'WebSocketConnectionLog', syntax: 'WebSocketConnectionLog On|Off', group: 'wsgate', default: true,
    doc: "On: an info line per refused handshake (status, reason, method, url, remote, user-agent, origin), per connection opened (id, path, remote, version, protocol) and per connection closed (duration, close codes sent and received, who closed, messages and bytes in and out). Off: none of these (errors are still logged). Per endpoint, so one busy Location can be turned down; refusals that match no Location (404, a malformed request) follow the main server's value.",
    parse: (a, name) => parseOnOff(first(a), name),
  }),
  compression: setting('compression', {
    name: 'WebSocketCompression', syntax: 'WebSocketCompression On|Off', group: 'wsgate', default: false,
    doc: 'On: accept a client\'s permessage-deflate offer (RFC 7692; versions 13, 8 and 7, never hixie) and compress messages of at least WebSocketCompressionThreshold bytes. An inflated message counts against MaxMessageSize while it is inflated (a deflate bomb closes with 1009 before its output is kept); zlib work runs on the thread pool, four jobs at a time for the whole process and one per connection and direction, so one busy client cannot stall the others. Handlers and C plugins see plain messages either way.',
    parse: (a, name) => parseOnOff(first(a), name),
  }),
  compressionThreshold: setting('compressionThreshold', {
    name: 'WebSocketCompressionThreshold', syntax: 'WebSocketCompressionThreshold BYTES', group: 'wsgate', default: 1024,
    doc: 'Messages shorter than this go out uncompressed (small ones gain little and cost a zlib job). 0 = compress everything.',
    parse: (a, name) => parseWholeNumber(first(a), name),
  }),
  compressionContextTakeover: setting('compressionContextTakeover', {
    name: 'WebSocketCompressionContextTakeover', syntax: 'WebSocketCompressionContextTakeover On|Off', group: 'wsgate', default: false,
    doc: 'Off: every answer carries server_no_context_takeover and client_no_context_takeover, so no zlib state outlives a message: an idle connection holds no zlib memory and a broadcast is compressed once. On: keep the context between messages unless the client asks otherwise (better ratio for many small similar messages, about 300 KB of zlib state per connection that has sent or received a compressed message).',
    parse: (a, name) => parseOnOff(first(a), name),
  }),
  compressionWindowBits: setting('compressionWindowBits', {
    name: 'WebSocketCompressionWindowBits', syntax: 'WebSocketCompressionWindowBits 9-15', group: 'wsgate', default: 15,
    doc: 'Largest LZ77 window (2^N bytes) the server compresses with and, when the client allows, asks it to use (server_max_window_bits, client_max_window_bits). A client\'s smaller server_max_window_bits is honoured.',
    parse: (a, name) => parseWindowBits(first(a), name),
  }),
} satisfies { [K in keyof EndpointSettings]: EndpointDirective<K> };

function model(
  name: string,
  syntax: string,
  sets: ModelTarget,
  group: DirectiveGroup,
  contexts: readonly DirectiveContext[],
  args: { min: number; max: number },
  doc: string,
  extra: { defaultText?: string; ignoredElsewhere?: boolean; serverWide?: boolean } = {},
): ModelDirective {
  return { kind: 'model', name, syntax, sets, group, contexts, args, doc, defaultText: extra.defaultText, ignoredElsewhere: extra.ignoredElsewhere ?? false, serverWide: extra.serverWide ?? false };
}

const location: readonly DirectiveContext[] = ['location'];
const serverAndVhost: readonly DirectiveContext[] = ['server', 'vhost'];

export const modelDirectives: readonly ModelDirective[] = [
  model('SetHandler', 'SetHandler websocket-handler', 'endpoint', 'mod_websocket', location, one,
    'Makes the enclosing <Location> a WebSocket endpoint. Any other handler name is Apache’s and ignored.'),
  model('WebSocketHandler', 'WebSocketHandler PATH INIT | PATH.js|.mjs|.cjs [EXPORT]', 'endpoint.handler', 'mod_websocket', location, { min: 1, max: 2 },
    'The handler: a native mod_websocket plugin (`.so` and its init function, e.g. `echo_init` or `_echo_init@0`) or a JS module (default export unless EXPORT is named). PATH is relative to ServerRoot and must exist.'),
  model('ServerRoot', 'ServerRoot DIR', 'serverRoot', 'apache', serverOnly, one,
    'Base of relative paths (Include, WebSocketHandler, …). Applies to the lines after it.', { defaultText: 'directory of the main config file' }),
  model('Listen', 'Listen [ADDRESS:]PORT [PROTOCOL]', 'listen', 'apache', serverOnly, { min: 1, max: 2 },
    'Address to accept connections on: `8080`, `127.0.0.1:8080`, `[::1]:8080`; port 0 picks a free port. Repeatable. PROTOCOL `https` makes it a TLS listener: a virtual host on its port (or on any port) needs `SSLEngine on` and a certificate, else it is an error; `http` (the default) is plain, unless a TLS virtual host answers on its port (as in Apache).'),
  model('Include', 'Include PATH|GLOB', 'include', 'apache', anywhere, one,
    'Reads other files (relative to ServerRoot; wildcards sorted like Apache). A missing file, or a wildcard matching nothing, is an error.'),
  model('IncludeOptional', 'IncludeOptional PATH|GLOB', 'include', 'apache', anywhere, one,
    'Like Include, but nothing found is not an error.'),
  model('Define', 'Define NAME [VALUE]', 'defines', 'apache', anywhere, { min: 1, max: 2 },
    'Defines NAME for <IfDefine> and, with a VALUE, the variable ${NAME} for the lines after it.'),
  model('UnDefine', 'UnDefine NAME', 'defines', 'apache', anywhere, one, 'Removes a Define.'),
  model('LoadModule', 'LoadModule ID PATH', 'loadedModules', 'apache', serverOnly, { min: 2, max: 2 },
    'Recorded (not loaded): makes `<IfModule ID>` / `<IfModule mod_x.c>` true for the lines after it.'),
  model('ServerName', 'ServerName HOST[:PORT]', 'vhost.serverName', 'apache', serverAndVhost, one, 'Name of the main server or of a <VirtualHost>.'),
  model('ServerAlias', 'ServerAlias HOST...', 'vhost.serverAliases', 'apache', ['vhost'], list, 'Other names of a <VirtualHost>.'),
  model('SSLEngine', 'SSLEngine On|Off|Optional', 'vhost.tls', 'ssl', serverAndVhost, one,
    'On with SSLCertificateFile: wsgate terminates TLS (wss://) for this virtual host on the listeners of its port (every listener for the main server or a vhost without a port). On without a certificate: TLS ends in a proxy in front (Apache); the vhost counts as https for the Origin check and the Apache generator adds X-Forwarded-Proto. A vhost inherits the main server\'s value. Optional is read as Off.', { defaultText: 'Off' }),
  model('SSLCertificateFile', 'SSLCertificateFile PATH', 'vhost.ssl', 'ssl', serverAndVhost, one,
    'PEM certificate of the server or vhost (relative to ServerRoot); may also hold the chain after it, and the key when SSLCertificateKeyFile is absent. Read when the config is loaded (so a graceful reload picks up a renewed certificate); an unreadable file, a key that does not match, or an unusable TLS setting is an error, an expired certificate a warning. With SNI the client\'s server name picks the vhost (ServerName, ServerAlias); a client without SNI gets the first TLS vhost of the port.'),
  model('SSLCertificateKeyFile', 'SSLCertificateKeyFile PATH', 'vhost.ssl', 'ssl', serverAndVhost, one,
    'PEM private key of SSLCertificateFile (unencrypted: wsgate cannot ask for a pass phrase).', { defaultText: 'the key in SSLCertificateFile' }),
  model('SSLCertificateChainFile', 'SSLCertificateChainFile PATH', 'vhost.ssl', 'ssl', serverAndVhost, one,
    'PEM intermediate certificates sent after the server certificate (Apache 2.4.8 folded them into SSLCertificateFile; both work).'),
  model('SSLCACertificateFile', 'SSLCACertificateFile PATH', 'vhost.ssl', 'ssl', serverAndVhost, one,
    'PEM CA certificates that client certificates must chain to (SSLVerifyClient).'),
  model('SSLVerifyClient', 'SSLVerifyClient none|optional|require', 'vhost.ssl', 'ssl', serverAndVhost, one,
    'Client certificates, as mod_ssl: require refuses a client without a certificate that verifies against SSLCACertificateFile (a TLS alert when every TLS vhost of the port requires one, else 403 at the handshake); optional accepts a client without one but refuses one whose certificate does not verify (403). The verified subject reaches handlers (`conn.clientCertificate`) and the `connected` log line. The certificate request is made per listener port: a vhost with none on a port where another vhost asks also sees the request.', { defaultText: 'none' }),
  model('SSLProtocol', 'SSLProtocol [+|-]PROTOCOL...', 'vhost.ssl', 'ssl', serverAndVhost, list,
    'Protocol versions as mod_ssl writes them: `all -TLSv1 -TLSv1.1`, `TLSv1.2 +TLSv1.3`; a name without a sign starts the list over. Names: all, SSLv3 (only as -SSLv3), TLSv1, TLSv1.1, TLSv1.2, TLSv1.3; the result must be a contiguous range (Node.js takes a minimum and a maximum). An unknown name is an error.', { defaultText: 'TLSv1.2 +TLSv1.3' }),
  model('SSLCipherSuite', 'SSLCipherSuite [SSL|TLSv1.3] CIPHERS', 'vhost.ssl', 'ssl', serverAndVhost, { min: 1, max: 2 },
    'OpenSSL cipher list for TLS 1.2 and below (`SSL`, the default) or the TLS 1.3 suites (`TLSv1.3 TLS_AES_256_GCM_SHA384:…`). A list that selects nothing is an error.', { defaultText: "Node.js's" }),
  model('SSLHonorCipherOrder', 'SSLHonorCipherOrder On|Off', 'vhost.ssl', 'ssl', serverAndVhost, one,
    "On: the server's SSLCipherSuite order wins over the client's preference.", { defaultText: 'Off' }),
  model('LogLevel', 'LogLevel [MODULE:]LEVEL...', 'logLevel', 'apache', serverOnly, list,
    'First bare level, mapped to pino: emerg/alert/crit → fatal, error, warn, notice/info → info, debug, trace1–8 → trace. Elsewhere than the main server it is Apache’s and ignored.',
    { defaultText: 'info', ignoredElsewhere: true }),
  model('RemoteIPHeader', 'RemoteIPHeader HEADER', 'remoteIp.header', 'remoteip', serverAndVhost, one,
    'Header holding the client address set by trusted proxies, e.g. X-Forwarded-For. Virtual hosts cannot use different headers.', { defaultText: 'none: the TCP peer', serverWide: true }),
  model('RemoteIPInternalProxy', 'RemoteIPInternalProxy ADDR|CIDR...', 'remoteIp.trustedProxies', 'remoteip', serverAndVhost, list,
    'Proxies whose RemoteIPHeader is believed. Repeatable.', { serverWide: true }),
  model('RemoteIPTrustedProxy', 'RemoteIPTrustedProxy ADDR|CIDR...', 'remoteIp.trustedProxies', 'remoteip', serverAndVhost, list,
    'Same as RemoteIPInternalProxy for wsgate. Repeatable.', { serverWide: true }),
  model('WebSocketWorkers', 'WebSocketWorkers N|auto', 'processes.workers', 'wsgate', serverOnly, one,
    'Worker processes that hold the connections and run the handlers (each loads every handler and C plugin, as each Apache child did; a C plugin\'s global state is per worker). A supervisor owns the listeners and the control channel, hands each new connection to the least busy worker and replaces a worker that dies or hangs, so a crashing plugin costs only that worker\'s connections. auto = one per CPU core; 0 = no supervisor: one process serves everything (as before 0.2; a crash ends the service).',
    { defaultText: 'auto' }),
  model('WebSocketReloadDeadline', 'WebSocketReloadDeadline SECONDS', 'processes.reloadDeadline', 'wsgate', serverOnly, one,
    'On a graceful reload (SIGHUP, `wsgate reload`), how long the old workers keep their connections before closing them with 1012 (service restart); new connections go to the new workers at once.',
    { defaultText: '60' }),
  model('WebSocketPidFile', 'WebSocketPidFile PATH', 'processes.pidFile', 'wsgate', serverOnly, one,
    '`serve` writes its process id here (relative to ServerRoot) and removes it on exit; `wsgate reload` reads it. Not Apache\'s PidFile, so pointing wsgate at an httpd.conf never touches Apache\'s.',
    { defaultText: 'none' }),
  model('WebSocketClusterRedis', 'WebSocketClusterRedis URL', 'cluster.redis', 'wsgate', serverOnly, one,
    'Several machines: the Redis server the nodes (each a `wsgate serve`) share, as `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]` or `rediss://…` for TLS. Ids, `?id=` (409), SEND/CLOSE, BROADCAST, LIST and handlers\' gateway calls then span every node of the cluster, and backends can push with a plain Redis PUBLISH. Without it nothing of this is loaded.',
    { defaultText: 'none: one node' }),
  model('WebSocketClusterName', 'WebSocketClusterName NAME', 'cluster.name', 'wsgate', serverOnly, one,
    'Names the cluster in the Redis keys and channels (`wsgate:NAME:…`), so several clusters can share one Redis. 1–64 characters of A-Z a-z 0-9 . _ -.',
    { defaultText: 'wsgate' }),
  model('WebSocketNodeName', 'WebSocketNodeName NAME', 'cluster.node', 'wsgate', serverOnly, one,
    'This node\'s name in the cluster (LIST shows `NAME/w1`); must be unique among the live nodes: a node whose name is held by a live node refuses to start. 1–64 characters of A-Z a-z 0-9 . _ -.',
    { defaultText: 'the host name' }),
  model('WebSocketControlSocket', 'WebSocketControlSocket PATH [MODE]', 'control.socket', 'control', serverOnly, { min: 1, max: 2 },
    'UNIX socket of the control (push) channel, relative to ServerRoot; MODE is octal. A missing directory is created (with its parents) by `serve`, owned by the user running wsgate, mode 0750 (0755 when MODE lets others connect); when it cannot be (e.g. /run/wsgate for a non-root user), the error says what to create, and `check` warns beforehand.', { defaultText: 'none; MODE 0660' }),
  model('WebSocketControlListen', 'WebSocketControlListen [ADDRESS:]PORT', 'control.listen', 'control', serverOnly, one,
    'HTTP control channel address; ADDRESS defaults to 127.0.0.1. Any other than a loopback address requires WebSocketControlToken.', { defaultText: 'none' }),
  model('WebSocketMetricsListen', 'WebSocketMetricsListen [ADDRESS:]PORT', 'control.metricsListen', 'control', serverOnly, one,
    'A second HTTP address serving only GET /metrics (Prometheus), /healthz and /readyz, for a scraper that must not reach the control API; the same access rules as WebSocketControlListen (a non-loopback ADDRESS requires WebSocketControlToken, sent as a bearer token). The control API serves the same paths either way.', { defaultText: 'none' }),
  model('WebSocketControlToken', 'WebSocketControlToken TOKEN', 'control.token', 'control', serverOnly, one,
    'Bearer token the control channel requires.', { defaultText: 'none' }),
  model('WebSocketControlTokenFile', 'WebSocketControlTokenFile PATH', 'control.token', 'control', serverOnly, one,
    'Reads the control token from a file (relative to ServerRoot) when the config is loaded; a missing, unreadable, empty or non-regular file (a FIFO, a device) or one over 64 KiB is an error.'),
  model('WebSocketControlMaxPayload', 'WebSocketControlMaxPayload BYTES', 'control.maxPayload', 'control', serverOnly, one,
    'Largest message a control command may carry, on both channels: the payload of SENDB/SENDT/BROADCASTB/BROADCASTT (a larger announced length is an ERR and the socket is closed, as the rest of the stream cannot be told from commands), a command line is this plus 4 KiB, an HTTP body this in base64 plus 64 KiB (413 beyond). Kept well below MaxMessageSize so that unfinished requests cannot pin much memory; raise it to push larger messages.',
    { defaultText: '1048576' }),
];

/** Every directive, endpoint settings and model directives alike. */
export const directiveSchema: readonly DirectiveSpec[] = [...Object.values(endpointDirectives), ...modelDirectives];

const byName = new Map(directiveSchema.flatMap((d) => [d.name, ...(d.aliases ?? [])].map((n) => [n.toLowerCase(), d] as const)));

/** By name or alias, case-insensitively. */
export function findDirective(name: string): DirectiveSpec | undefined {
  return byName.get(name.toLowerCase());
}

/** Every name a directive answers to, aliases included (for suggestions). */
export const directiveNames: readonly string[] = directiveSchema.flatMap((d) => [d.name, ...(d.aliases ?? [])]);

/** The name or alias of `spec` that `written` spells (in the schema's capitalisation), for messages. */
export function spelledName(spec: DirectiveSpec, written: string): string {
  const lower = written.toLowerCase();
  return [spec.name, ...(spec.aliases ?? [])].find((n) => n.toLowerCase() === lower) ?? spec.name;
}

/** The usage line under the name as written (`WebSocketMaxMessageSize BYTES`). */
export function syntaxAs(spec: DirectiveSpec, name: string): string {
  return name === spec.name ? spec.syntax : name + spec.syntax.slice(spec.name.length);
}

/** Process settings when the config says nothing (WebSocketWorkers, WebSocketReloadDeadline, WebSocketPidFile). */
export function defaultProcessConfig(): ProcessConfig {
  return { workers: 'auto', reloadDeadline: 60, pidFile: undefined };
}

/** Default per-endpoint settings, from the schema. */
export function defaultEndpointSettings(): EndpointSettings {
  const out: Record<string, unknown> = {};
  for (const d of Object.values(endpointDirectives)) out[d.field] = Array.isArray(d.default) ? [...d.default] : d.default;
  return out as unknown as EndpointSettings;
}

const count = (n: number): string => (n === 1 ? 'one argument' : `${n} arguments`);

/** undefined when `n` arguments fit, else a message saying what was expected. `name`: as written. */
export function argumentCountProblem(spec: DirectiveSpec, n: number, name = spec.name): string | undefined {
  const { min, max } = spec.args;
  if (n >= min && n <= max) return undefined;
  const expected = min === max ? count(min) : max === Infinity ? `at least ${count(min)}` : `${min} to ${max} arguments`;
  return `${name} takes ${expected} (${syntaxAs(spec, name)}), got ${n}`;
}

/** Sections wsgate gives meaning to (for the reference). */
export const sectionDocs: readonly { syntax: string; doc: string }[] = [
  { syntax: '<VirtualHost ADDR...>', doc: 'A virtual host; ServerName/ServerAlias pick it. Per-endpoint settings here apply to its Locations.' },
  {
    syntax: '<Location PATH>',
    doc:
      'URL-path prefix match at a path segment, as Apache: `/echo` matches `/echo`, `/echo/` and `/echo/x`, not `/echoes`; `/dir/` matches `/dir/` and below, not `/dir` ' +
      '(checked against a real Apache by test/apache/location-match.test.ts; before 0.2 wsgate also sent `/echoes` to `/echo`). ' +
      'A PATH with wildcards (`*`, `?`, `[…]`) matches the whole path, like fnmatch.',
  },
  { syntax: '<Location ~ REGEX>, <LocationMatch REGEX>', doc: 'Regular-expression match on the URL path, in Apache’s PCRE syntax. PCRE-only forms with an exact JavaScript equivalent are translated (`(?i:…)`, `a++`, `(?>…)`, `[[:alpha:]]`, `\\Q…\\E`, `\\A`, `\\z`, …); one wsgate cannot run is an error in a WebSocket endpoint and a warning elsewhere (wsgate ignores those sections).' },
  { syntax: '<IfModule [!]MODULE>', doc: 'MODULE is `mod_x.c` or `x_module`; true when a LoadModule line before it loaded it, or for mod_websocket.c, mod_websocket_draft76.c and mod_remoteip.c (provided by wsgate).' },
  { syntax: '<IfDefine [!]NAME>', doc: 'True when NAME was defined by Define or `wsgate check -D NAME`.' },
  { syntax: '<Directory>, <Files>, <Proxy>, <If>, …', doc: 'Apache’s; read and ignored. wsgate routes by URL only, so WebSocket directives inside them are errors.' },
];
