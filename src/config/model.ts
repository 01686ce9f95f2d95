// The resolved configuration: what every other part of wsgate reads. Produced by
// config/load.ts from httpd.conf-style files; tests and embedders may also build it by hand.
import type { SourceLocation } from '../errors.js';

export type { SourceLocation };

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  message: string;
  loc: SourceLocation;
  /** Stable machine-readable code, e.g. 'CONFIG_DIRECTIVE'. */
  code: string;
}

export interface ListenAddress {
  /** undefined = all interfaces, as Apache's `Listen 80`. IPv6 without brackets. */
  host: string | undefined;
  port: number;
  loc: SourceLocation | undefined;
  /** `Listen … https`: TLS on this listener (a TLS vhost on its port makes it TLS as well). */
  protocol?: 'http' | 'https';
}

/** SSLVerifyClient, as mod_ssl: none, optional (a presented certificate must verify) or require. */
export type VerifyClient = 'none' | 'optional' | 'require';

/** What a vhost's SSL* directives ended as (main server values inherited), files already read. */
export interface VhostTls {
  /** SSLCertificateFile (may hold the chain after the certificate), SSLCertificateChainFile appended. */
  cert: Buffer;
  /** SSLCertificateKeyFile, or the key inside SSLCertificateFile. */
  key: Buffer;
  /** SSLCACertificateFile: CAs that client certificates must chain to. */
  ca: Buffer | undefined;
  verifyClient: VerifyClient;
  /** SSLProtocol mapped to node's range. */
  minVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  maxVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /** SSLCipherSuite (OpenSSL cipher list for TLS 1.2 and below; `TLSv1.3 …` for 1.3 suites). */
  ciphers: string | undefined;
  ciphersuites: string | undefined;
  /** SSLHonorCipherOrder */
  honorCipherOrder: boolean;
  /** The certificate files as configured, for messages. */
  certFile: string;
}

export type OriginCheck = 'same' | 'trusted' | 'off';

/** Per-endpoint settings. Every field is set by exactly one directive of the schema
 *  (config/schema.ts), which also holds its default and its documentation. */
export interface EndpointSettings {
  /** MaxMessageSize (alias WebSocketMaxMessageSize): bytes in one whole (reassembled) message,
   *  and in one control frame's payload. */
  maxMessageSize: number;
  /** SupportDraft75: accept hixie draft-75 handshakes. draft-76 is always accepted. */
  supportDraft75: boolean;
  /** WebSocketOriginCheck */
  originCheck: OriginCheck;
  /** WebSocketTrustedOrigin: full origins, e.g. 'https://example.com'. */
  /** In normal form (normaliseOrigin): compared as strings with each handshake's Origin. */
  trustedOrigins: string[];
  /** WebSocketMaxConnections: open connections on this endpoint; 0 = unlimited. Over → 503. */
  maxConnections: number;
  /** WebSocketPingInterval: seconds between keepalive pings; 0 = off. */
  pingInterval: number;
  /** WebSocketHandshakeTimeout: seconds a client has to complete its handshake. */
  handshakeTimeout: number;
  /** WebSocketCloseTimeout: seconds to wait for the peer's close frame before dropping TCP. */
  closeTimeout: number;
  /** WebSocketAllowReservedStatusCodes: accept unassigned 1000–2999 codes in a peer's close frame. */
  allowReservedStatusCodes: boolean;
  /** WebSocketSendQueueLimit: bytes buffered for a slow reader before it is closed with 1008. */
  sendQueueLimit: number;
  /** WebSocketConnectionLog: info lines for refused handshakes, opened and closed connections. */
  connectionLog: boolean;
  /** WebSocketCompression: answer a client's permessage-deflate (RFC 7692) offer on versions 13/8/7. */
  compression: boolean;
  /** WebSocketCompressionThreshold: messages shorter than this go out uncompressed. */
  compressionThreshold: number;
  /** WebSocketCompressionContextTakeover: keep zlib context between messages when the client allows. */
  compressionContextTakeover: boolean;
  /** WebSocketCompressionWindowBits: largest LZ77 window (9–15) either side may use. */
  compressionWindowBits: number;
}

export type LocationMatch =
  /** `<Location PATH>`: Apache's prefix match (`/echo` also matches `/echo/x` and `/echoes`). */
  | { kind: 'prefix'; path: string }
  /** `<LocationMatch REGEX>` or `<Location ~ REGEX>`; with `wildcard`, a `<Location PATH>` whose PATH
   *  has fnmatch wildcards (`/rooms/*`): `source` is that pattern as written, `regex` its anchored form. */
  | { kind: 'regex'; source: string; regex: RegExp; wildcard?: true };

export type HandlerSpec =
  /** `WebSocketHandler lib.so init_function` */
  | { kind: 'native'; path: string; init: string; loc: SourceLocation }
  /** `WebSocketHandler module.js|.mjs [EXPORT]` (default export when EXPORT is absent) */
  | { kind: 'js'; path: string; exportName: string | undefined; loc: SourceLocation };

export interface VirtualHostConfig {
  /** Addresses as written on the `<VirtualHost …>` line ('*:80', '127.0.0.1:8080'); [] for the main server. */
  addresses: string[];
  serverName: string | undefined;
  serverAliases: string[];
  /** True for the main server (directives outside any <VirtualHost>). */
  isMain: boolean;
  /** Set when the vhost has `SSLEngine on` (the Apache generator adds X-Forwarded-Proto). */
  tls: boolean;
  /** SSLEngine on with a certificate: wsgate terminates TLS for this vhost itself. Without a
   *  certificate, `tls` alone means TLS ends in a proxy in front (Apache). */
  ssl?: VhostTls;
  loc: SourceLocation | undefined;
}

export interface EndpointConfig {
  vhost: VirtualHostConfig;
  match: LocationMatch;
  handler: HandlerSpec;
  settings: EndpointSettings;
  /** The `<Location …>` line. */
  loc: SourceLocation;
}

export interface LoadedModule {
  name: string; // e.g. 'websocket_module'
  path: string; // as written
  loc: SourceLocation;
}

export interface IgnoredDirective {
  name: string;
  loc: SourceLocation;
}

export interface RemoteIpConfig {
  /** RemoteIPHeader, e.g. 'X-Forwarded-For'; undefined = use the TCP peer address. */
  header: string | undefined;
  /** RemoteIPInternalProxy / RemoteIPTrustedProxy entries: addresses or CIDR ranges. */
  trustedProxies: string[];
}

export interface ControlConfig {
  /** WebSocketControlSocket PATH [MODE] */
  socket: { path: string; mode: number; loc: SourceLocation } | undefined;
  /** WebSocketControlListen ADDR:PORT */
  listen: { host: string; port: number; loc: SourceLocation } | undefined;
  /** WebSocketMetricsListen ADDR:PORT: /metrics, /healthz and /readyz only; undefined = none. */
  metricsListen?: { host: string; port: number; loc: SourceLocation } | undefined;
  /** WebSocketControlToken TOKEN, or the contents of WebSocketControlTokenFile. */
  token: string | undefined;
  /** WebSocketControlMaxPayload BYTES; undefined (a config built in code) = ControlLimits' default. */
  maxPayload?: number;
}

export interface ProcessConfig {
  /** WebSocketWorkers: worker processes; 'auto' = one per core; 0 = one process, no supervisor. */
  workers: number | 'auto';
  /** WebSocketReloadDeadline: seconds old workers keep their connections after a reload. */
  reloadDeadline: number;
  /** WebSocketPidFile, absolute; undefined = none. */
  pidFile: string | undefined;
}

/** Several nodes sharing one registry over Redis (WebSocketClusterRedis and its companions). */
export interface ClusterConfig {
  /** WebSocketClusterRedis: redis:// or rediss:// URL. */
  redis: string;
  /** WebSocketClusterName: the prefix of every key and channel (default 'wsgate'). */
  name: string;
  /** WebSocketNodeName: this node (default: the host name). */
  node: string;
}

export interface GatewayConfig {
  /** Absolute path of the main config file. */
  file: string;
  serverRoot: string;
  listen: ListenAddress[];
  /** Apache's LogLevel mapped to pino: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'. */
  logLevel: string;
  mainServer: VirtualHostConfig;
  virtualHosts: VirtualHostConfig[];
  /** Every WebSocket endpoint in config order (the router lets the last match win, as Apache merges later sections over earlier ones). */
  endpoints: EndpointConfig[];
  loadedModules: LoadedModule[];
  defines: Record<string, string>;
  remoteIp: RemoteIpConfig;
  control: ControlConfig;
  processes: ProcessConfig;
  /** Present only with WebSocketClusterRedis: without it a node is alone and no Redis code loads. */
  cluster?: ClusterConfig;
  /** Apache directives wsgate accepted and ignored. */
  ignored: IgnoredDirective[];
  /** The main server's WebSocketConnectionLog: refusals that match no Location follow it.
   *  Undefined (a config built in code) = On. */
  connectionLog?: boolean;
}
