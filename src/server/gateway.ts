// The gateway of one process: every endpoint's handler loaded, HTTP upgrades routed to
// connections, and a shutdown in order (stop accepting → close frames → await onDisconnects →
// destroy handlers). startGateway also listens (one process); a worker process feeds it the
// sockets its supervisor accepted (createGateway + acceptSocket).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { WsgateError, isWsgateError } from '../errors.js';
import type { EndpointConfig, GatewayConfig, ListenAddress } from '../config/model.js';
import { loadHandler } from '../plugins/load.js';
import type { Gateway, Handler } from '../plugins/types.js';
import { HandlerGateway } from '../registry/handler-gateway.js';
import { InProcessRegistry } from '../registry/in-process.js';
import type { HostRegistry } from '../registry/local.js';
import { TrustedProxies } from './client-address.js';
import type { ConnectionHost, WsConnection } from './connection.js';
import type { EndpointRuntime } from './endpoint.js';
import { answerClientError, logRefusal, type AccessLogContext } from './access-log.js';
import { handleUpgrade, type HandshakeContext } from './handshake.js';
import { Keepalive } from './keepalive.js';
import { SharedReads } from './shared-read.js';
import { locationName } from '../config/location-match.js';
import { formatHostPort } from '../config/values.js';
import { listenOn } from '../listen.js';
import { Router } from './router.js';
import { warnUnreachableVhosts } from './vhost-ports.js';
import { TlsSites } from './tls.js';
import { GatewayStats, type GatewayStatsSnapshot } from './stats.js';

/** Which listener a socket came from: its port and whether its Listen line said https. */
export interface SocketOrigin {
  port: number;
  protocol?: 'http' | 'https' | undefined;
}

export interface GatewayOptions {
  log: Logger;
  /** Where ids are claimed and commands routed; default: this process only. A worker passes its
   *  IPC registry. */
  registry?: HostRegistry<WsConnection>;
  /** The most one socket read takes (default SHARED_READ_SIZE); tests give Node's own 64 KiB to
   *  know where reads end. */
  readSize?: number;
}

export interface StartOptions extends GatewayOptions {
  /** Replaces config.listen (`wsgate serve --listen`). */
  listen?: ListenAddress[];
}

/** How connections end when the gateway stops. */
export interface StopOptions {
  /** Close code for the connections still open: 1001 (shutdown) or 1012 (a reload replaced us). */
  code: number;
  reason: string;
  /** Let connections end by themselves this long before closing them (a reload's drain). */
  drainMs?: number;
}

export interface GatewayCore {
  readonly gateway: Gateway;
  readonly registry: HostRegistry<WsConnection>;
  /** Handshakes, traffic and closes so far (metrics, `wsgate status`). */
  stats(): GatewayStatsSnapshot;
  /** A socket accepted elsewhere (the supervisor) on `listener`: served as if this gateway had
   *  accepted it (TLS first when the listener is a TLS one). Without `listener`: plain, as before. */
  acceptSocket(socket: Socket, listener?: SocketOrigin): void;
  /** Once; later calls return the first call's promise. */
  stop(options: StopOptions): Promise<void>;
}

export interface RunningGateway {
  readonly addresses: AddressInfo[];
  readonly gateway: Gateway;
  readonly registry: HostRegistry<WsConnection>;
  stats(): GatewayStatsSnapshot;
  /** Stop accepting, close every socket with 1001, await onDisconnects, destroy handlers. */
  close(): Promise<void>;
}

const SHUTDOWN: StopOptions = { code: 1001, reason: 'server shutting down' };

/** Request head limit (→ 431), Apache's default LimitRequestFieldSize × 2. */
const MAX_HEADER_BYTES = 16 * 1024;
/** Handshake timeout when no endpoint is configured. */
const DEFAULT_HANDSHAKE_SECONDS = 10;

export function formatAddress(address: AddressInfo): string {
  return formatHostPort(address.address, address.port);
}

async function loadEndpoints(config: GatewayConfig, gateway: Gateway, log: Logger): Promise<Map<EndpointConfig, EndpointRuntime>> {
  const endpoints = new Map<EndpointConfig, EndpointRuntime>();
  try {
    for (const endpoint of config.endpoints) {
      const location = locationName(endpoint);
      const info = { location, handlerPath: endpoint.handler.path, log: log.child({ location }), settings: endpoint.settings };
      const handler = await loadHandler(endpoint.handler, config.serverRoot, gateway, info);
      endpoints.set(endpoint, { config: endpoint, info, handler, active: 0 });
    }
  } catch (err) {
    await destroyHandlers(endpoints, log);
    if (isWsgateError(err)) throw err;
    throw new WsgateError('PLUGIN_LOAD', `cannot load handler: ${(err as Error).message}`, { cause: err });
  }
  return endpoints;
}

/** Waits for `promises`, or `ms`; then calls `late` with how many were still pending. */
async function settleWithin(promises: Array<Promise<void>>, ms: number, late: (pending: number) => void): Promise<void> {
  if (promises.length === 0) return;
  let settled = 0;
  for (const p of promises) void p.finally(() => settled++);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(resolve, ms, 'timeout');
  });
  const outcome = await Promise.race([Promise.allSettled(promises), timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') late(promises.length - settled);
}

async function destroyHandlers(endpoints: Map<EndpointConfig, EndpointRuntime>, log: Logger): Promise<void> {
  const handlers = new Set<Handler>([...endpoints.values()].map((e) => e.handler));
  for (const handler of handlers) {
    try {
      await handler.destroy?.();
    } catch (err) {
      log.error({ err }, 'handler destroy failed');
    }
  }
}

function trustedProxiesOf(config: GatewayConfig): TrustedProxies {
  try {
    return new TrustedProxies(config.remoteIp.trustedProxies);
  } catch (err) {
    throw new WsgateError('CONFIG_VALUE', `RemoteIPTrustedProxy: ${(err as Error).message}`);
  }
}

/** Loads the handlers and builds the HTTP side; listens nowhere (see startGateway). */
export async function createGateway(config: GatewayConfig, options: GatewayOptions): Promise<GatewayCore & { createServer(listener?: SocketOrigin): Server; isTls(listener: SocketOrigin): boolean }> {
  const log = options.log;
  const trustedProxies = trustedProxiesOf(config);
  const registry = options.registry ?? new InProcessRegistry<WsConnection>();
  const local = registry.local;
  const gateway = new HandlerGateway(registry);
  const keepalive = new Keepalive();
  const disconnects = new Set<Promise<void>>();
  let onDrained: (() => void) | undefined;
  const stats = new GatewayStats(config.endpoints.map(locationName));
  const host: ConnectionHost = {
    register: (conn) => {
      stats.answered(101);
      local.add(conn);
    },
    unregister: (conn) => {
      stats.connectionClosed(conn);
      conn.endpoint.active--;
      local.remove(conn);
      registry.release(conn.id);
      if (local.size === 0) onDrained?.();
    },
    joinGroup: (conn, group) => local.addToGroup(conn, group),
    leaveGroup: (conn, group) => local.removeFromGroup(conn, group),
    trackDisconnect: (done) => {
      disconnects.add(done);
      void done.finally(() => disconnects.delete(done));
    },
    keepalive,
    countHandlerError: (conn, callback) => stats.handlerFailed(conn.location, callback),
    reads: new SharedReads(options.readSize),
  };
  const endpoints = await loadEndpoints(config, gateway, log);
  const router = new Router(config);
  let accepting = true;
  const pending = new Set<Socket>();
  const tls = new TlsSites(config);
  const ctx: HandshakeContext & AccessLogContext = { config, router, registry, endpoints, trustedProxies, host, log, pending, accepting: () => accepting, tls, stats };

  const handshakeSeconds = config.endpoints.length
    ? Math.min(...config.endpoints.map((e) => e.settings.handshakeTimeout))
    : DEFAULT_HANDSHAKE_SECONDS;
  const handshakeMs = Math.max(1, handshakeSeconds * 1000);

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const endpoint = router.route(req.headers.host, req.socket.localPort ?? 0, path);
    const isWebSocket = endpoint !== undefined;
    const status = isWebSocket ? 426 : 404;
    logRefusal(ctx, req, status, isWebSocket ? 'a plain HTTP request on a WebSocket Location' : `no WebSocket Location matches ${path}`, endpoint?.settings, 'request refused');
    const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8' };
    if (isWebSocket) Object.assign(headers, { Upgrade: 'websocket', Connection: 'Upgrade' });
    res.writeHead(status, headers);
    res.end(isWebSocket ? 'This Location speaks WebSocket only: send an Upgrade request.\n' : 'Not Found\n');
  };

  const servers: Server[] = [];
  /** A TLS listener must get TLS: with no certificate for its port it is refused, never served in clear. */
  const newServer = (listener?: SocketOrigin): Server => {
    const httpOptions = {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout: handshakeMs,
      requestTimeout: handshakeMs,
      // How often node looks for expired handshakes; the default (30 s) is far coarser than the timeout.
      connectionsCheckingInterval: Math.min(1000, Math.max(100, handshakeMs / 4)),
    };
    let server: Server;
    if (listener && tls.isTls(listener)) {
      const tlsOptions = tls.serverOptions(listener.port);
      if (!tlsOptions) throw new WsgateError('CONFIG_VALUE', `port ${listener.port} is a TLS listener but no virtual host on it has \`SSLEngine on\` with SSLCertificateFile`);
      server = createTlsServer({ ...httpOptions, ...tlsOptions, handshakeTimeout: handshakeMs });
      // A client that aborts or botches its TLS handshake: node destroys the socket; nothing to answer.
      server.on('tlsClientError', (err: Error) => log.debug({ err: err.message }, 'TLS handshake failed'));
    } else {
      server = createServer(httpOptions);
    }
    server.on('request', onRequest);
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(ctx, err, socket));
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      void handleUpgrade(ctx, req, socket, head);
    });
    servers.push(server);
    return server;
  };

  // Sockets handed over by a supervisor go to servers that never listen (one for plain sockets,
  // one per TLS port); node starts its handshake timers ('listening') only for servers that do,
  // so each is told it is.
  const fedServers = new Map<string, Server | undefined>();
  const fedServer = (listener: SocketOrigin | undefined): Server | undefined => {
    const key = listener && tls.isTls(listener) ? `tls:${listener.port}` : 'plain';
    if (fedServers.has(key)) return fedServers.get(key);
    let server: Server | undefined;
    try {
      server = newServer(listener);
      server.emit('listening');
    } catch (err) {
      log.error({ err: (err as Error).message, port: listener?.port }, 'cannot serve TLS on this listener: its connections are refused');
    }
    fedServers.set(key, server);
    return server;
  };
  const acceptSocket = (socket: Socket, listener?: SocketOrigin): void => {
    const server = accepting ? fedServer(listener) : undefined;
    if (!server) {
      socket.destroy();
      return;
    }
    server.emit('connection', socket);
  };

  let stopping: Promise<void> | undefined;
  const shutdown = async ({ code, reason, drainMs = 0 }: StopOptions): Promise<void> => {
    accepting = false;
    const serversClosed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const server of servers) server.closeIdleConnections();
    for (const socket of pending) socket.destroy();
    if (drainMs > 0 && local.size > 0) {
      // A reload: connections may finish on their own until the deadline.
      const drained = new Promise<void>((resolve) => (onDrained = resolve));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([drained, new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs)))]);
      clearTimeout(timer);
    }
    // The longest WebSocketCloseTimeout: for the close handshakes, then again for onDisconnects
    // (a native plugin's on_disconnect may hang; shutdown must not).
    const grace = Math.max(0, ...[...local.all()].map((c) => c.settings.closeTimeout)) * 1000;
    if (local.size > 0) {
      const drained = new Promise<void>((resolve) => (onDrained = resolve));
      for (const conn of [...local.all()]) conn.close(code, reason);
      // Each connection drops itself after its closeTimeout; this is the backstop.
      const backstop = setTimeout(() => {
        for (const conn of [...local.all()]) conn.destroy();
      }, grace + 100);
      await drained;
      clearTimeout(backstop);
    }
    for (const server of servers) server.closeAllConnections();
    await settleWithin([...disconnects], grace, (running) =>
      log.warn({ running }, `onDisconnect still running ${grace / 1000} s after the close: shutting down without it`),
    );
    keepalive.stop();
    await destroyHandlers(endpoints, log);
    await Promise.all(serversClosed);
  };

  return {
    gateway,
    registry,
    stats: () => stats.snapshot(local.all()),
    acceptSocket,
    createServer: newServer,
    isTls: (listener) => tls.isTls(listener),
    stop: (stopOptions) => (stopping ??= shutdown(stopOptions)),
  };
}

/** One process: createGateway, then listen on the config's (or --listen's) addresses. */
export async function startGateway(config: GatewayConfig, options: StartOptions): Promise<RunningGateway> {
  const log = options.log;
  const core = await createGateway(config, options);
  const addresses: AddressInfo[] = [];
  try {
    for (const address of options.listen ?? config.listen) {
      const bound = await listenOn(core.createServer(address), address);
      addresses.push(bound);
      log.info({ address: formatAddress(bound), ...(core.isTls(address) ? { tls: true } : {}) }, 'listening');
    }
    warnUnreachableVhosts(config, addresses.map((a) => a.port), log);
  } catch (err) {
    await core.stop(SHUTDOWN);
    throw err;
  }
  return {
    addresses,
    gateway: core.gateway,
    registry: core.registry,
    stats: () => core.stats(),
    close: () => core.stop(SHUTDOWN),
  };
}
