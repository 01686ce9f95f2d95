// The handler API: what a JS/TS handler module (and the native plugin adapter) sees.
// Mirrors mod_websocket's WebSocketPlugin (connect / message / disconnect) and adds what the
// plugin API never had: connection ids, a registry, broadcast and groups.
import type { Logger } from 'pino';
import type { IncomingHttpHeaders } from 'node:http';
import type { ProtocolVersion } from '../protocol/types.js';
import type { EndpointSettings } from '../config/model.js';

export type MessageData = Buffer | string;

/** One live WebSocket connection. */
export interface Connection<S = unknown> {
  /** Registry id: the `id` query parameter when present, otherwise generated. */
  readonly id: string;
  /** Request path without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Request headers, names lower-cased (as node:http). */
  readonly headers: IncomingHttpHeaders;
  /** The client's address: the TCP peer, or X-Forwarded-For when the peer is a trusted proxy. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly version: ProtocolVersion;
  /** The Location this connection matched, as written in the config ('/echo', or the regex source). */
  readonly location: string;
  /** Subprotocols the client offered (Sec-WebSocket-Protocol tokens), in order. */
  readonly protocols: readonly string[];
  /** The chosen subprotocol, '' when none. */
  readonly protocol: string;
  readonly origin: string | undefined;
  /** The client certificate, when the client sent one over wss:// and it verified against the
   *  vhost's SSLCACertificateFile (SSLVerifyClient optional or require). */
  readonly clientCertificate?: ClientCertificate;
  readonly connectedAt: Date;
  readonly groups: ReadonlySet<string>;
  /** What onConnect returned. */
  state: S;
  readonly log: Logger;
  /** True until the close handshake starts. */
  readonly isOpen: boolean;

  /** Queue one message. A string is sent as text unless isBinary is true. Returns false when the
   *  connection is closing or closed (nothing is sent). */
  send(data: MessageData, isBinary?: boolean): boolean;
  ping(data?: MessageData): boolean;
  pong(data?: MessageData): boolean;
  /** Start the close handshake. No code → empty close payload (the peer sees 1005). */
  close(code?: number, reason?: string): void;
  /** Stop reading this client's frames until resume() (flow control, as `ws`'s pause()): what was
   *  already read is still delivered; what the client sends meanwhile waits in TCP. */
  pause(): void;
  resume(): void;
  join(group: string): void;
  leave(group: string): void;
}

/** What the gateway's connections offer the native plugin host beside Connection (not part of the
 *  handler API): frames the helper encoded itself, written as they are. */
export interface EncodedFrameSink {
  /** This connection's text and binary frames are plain RFC 6455 frames (no permessage-deflate, not hixie). */
  readonly sendsPlainFrames: boolean;
  /** Writes `frames`: `count` whole text or binary frames, encoded, as send() would have written
   *  them one by one. False (nothing written) when send() would return false. */
  sendFrames(frames: Buffer, count: number): boolean;
}

/** A verified client certificate (wss:// with SSLVerifyClient). DNs in RFC 2253 order, as
 *  Apache's SSL_CLIENT_S_DN: `CN=alice,O=Example`. */
export interface ClientCertificate {
  readonly subject: string;
  readonly issuer: string;
  /** SHA-256 fingerprint, `AB:CD:…`. */
  readonly fingerprint256: string;
  readonly serialNumber: string;
  /** ISO 8601. */
  readonly validTo: string;
}

/** The view of a connection inside onConnect, before the 101 answer is sent. */
export interface PendingConnection<S = unknown> extends Connection<S> {
  /** Choose the response subprotocol: one of `protocols` (anything else throws, and the client gets 500). */
  selectProtocol(protocol: string): void;
  /** Add or replace a header of the 101 response. */
  setHeader(name: string, value: string): void;
  /** Refuse the connection with this HTTP status (default 403). */
  reject(status?: number, reason?: string): void;
  /** The opening handshake as received (native plugins' request_rec is built from it). */
  readonly request?: HandshakeRequest;
}

/** The handshake request as it reached the gateway. */
export interface HandshakeRequest {
  readonly method: string;
  /** The request target as sent: '/echo?token=1'. */
  readonly url: string;
  /** '1.1' */
  readonly httpVersion: string;
  /** Header lines as sent: name, value, name, value… (original case and order). */
  readonly rawHeaders: readonly string[];
  /** The TCP peer (a proxy, when remoteAddress came from X-Forwarded-For). */
  readonly peerAddress: string;
  readonly localAddress: string;
  readonly localPort: number;
  /** The host the client asked for: X-Forwarded-Host from a trusted proxy, else Host. */
  readonly host: string | undefined;
  /** 'https' or 'http', as the client connected (X-Forwarded-Proto from a trusted proxy, else TLS on
   *  this socket or the vhost's SSLEngine). */
  readonly scheme: string;
  /** ServerName of the virtual host that took the request. */
  readonly serverName: string | undefined;
}

export interface ConnectionFilter {
  /** The Location as written in the config. */
  location?: string;
  group?: string;
}

export interface BroadcastOptions extends ConnectionFilter {
  isBinary?: boolean;
  /** Leave out this connection id (e.g. the sender in a chat). */
  except?: string;
}

/** The JSON view of one live connection: `gateway.list()`, the control channel's LIST DETAILS,
 *  INFO and HTTP API. */
export interface ConnectionSummary {
  id: string;
  remoteAddress: string;
  remotePort: number;
  /** The Location the connection matched, as written in the config. */
  location: string;
  /** The request path without the query string. */
  path: string;
  /** 13, 8, 7, 'hixie-76' or 'hixie-75'. */
  version: number | string;
  /** The chosen subprotocol, '' when none. */
  protocol: string;
  origin: string | null;
  groups: string[];
  /** ISO 8601, UTC. */
  connectedAt: string;
  /** The worker process it lives in ('w2'); '' when the gateway runs as one process. */
  member: string;
}

/** What a command reached. `count`: connections it was delivered to (0 or 1 for one id);
 *  `unreachable`: workers that did not answer in time (their connections may or may not have it). */
export interface Delivery {
  count: number;
  unreachable: string[];
}

export interface Listing {
  connections: ConnectionSummary[];
  unreachable: string[];
}

/** The registry of live connections across every worker process, shared by handlers and the
 *  control channel. Methods that may reach another process return a promise; the part that is
 *  local is done before they return, so calls made one after another keep their order even when
 *  nobody awaits them. */
export interface Gateway {
  /** Open connections of this process (live objects, synchronous). */
  local(filter?: ConnectionFilter): Connection[];
  /** An open connection of this process. */
  get(id: string): Connection | undefined;
  /** Every open connection, wherever it lives. */
  list(filter?: ConnectionFilter): Promise<Listing>;
  /** A string is sent as text unless isBinary is true. */
  send(id: string, data: MessageData, isBinary?: boolean): Promise<Delivery>;
  broadcast(data: MessageData, options?: BroadcastOptions): Promise<Delivery>;
  close(id: string, code?: number, reason?: string): Promise<Delivery>;
  join(id: string, group: string): Promise<Delivery>;
  leave(id: string, group: string): Promise<Delivery>;
}

export interface EndpointInfo {
  /** The Location as written in the config. */
  location: string;
  /** The handler module path and export. */
  handlerPath: string;
  log: Logger;
  /** The endpoint's settings (the native adapter caps its plugin's queue at sendQueueLimit). */
  settings: EndpointSettings;
}

/** What a handler module exports (default export, or the export named by `WebSocketHandler path.js NAME`):
 *  either this object, or a function `(gateway, endpoint) => Handler` called once per endpoint. */
export interface Handler<S = unknown> {
  /** Before the 101 answer. Return `false` (or call conn.reject) to refuse with 403; any other
   *  value becomes `conn.state`. May choose the subprotocol and set response headers. */
  onConnect?(conn: PendingConnection<S>): S | false | void | Promise<S | false | void>;
  /** Once per complete message. Text arrives as a Buffer of valid UTF-8 with isBinary false. */
  onMessage?(conn: Connection<S>, data: Buffer, isBinary: boolean): void | Promise<void>;
  /** Around the messages of one read from the socket. A handler may collect messages in between
   *  and act on them once in onReadEnd (the native adapter makes one C call per read). */
  onReadStart?(conn: Connection<S>): void;
  onReadEnd?(conn: Connection<S>): void;
  /** After the messages of one read (and onReadEnd): true when the handler keeps no reference to
   *  any of their Buffers, or to views of them, past this point, other than through send(), ping()
   *  or pong() on the same connection (what it keeps it copied; broadcasting a message, or sending
   *  it to another connection, keeps it). The gateway then reads the next message into the same
   *  memory once the replies have left, which spares an allocation per read. Without this method
   *  every read's messages get memory of their own. */
  releasedMessages?(conn: Connection<S>): boolean;
  /** The close handshake is starting (either side, or the gateway failed the connection). Sends
   *  made during this call still go out, before the close frame; afterwards they return false,
   *  though messages the peer sent earlier may still arrive. */
  onClosing?(conn: Connection<S>): void;
  /** Once after any close, error or TCP drop. code is 1006 when there was no close frame. */
  onDisconnect?(conn: Connection<S>, code: number, reason: string): void | Promise<void>;
  /** When the configuration is torn down (shutdown). */
  destroy?(): void | Promise<void>;
}

export type HandlerFactory<S = unknown> = (gateway: Gateway, endpoint: EndpointInfo) => Handler<S> | Promise<Handler<S>>;
