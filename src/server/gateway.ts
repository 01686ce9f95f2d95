// startGateway: load every endpoint's handler, listen, route upgrades to connections; close()
// shuts it all down in order (stop accepting → 1001 to everyone → await onDisconnects → destroy handlers).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { WsgateError, isWsgateError } from '../errors.js';
import type { EndpointConfig, GatewayConfig, ListenAddress } from '../config/model.js';
import { loadHandler } from '../plugins/load.js';
import type { Gateway, Handler } from '../plugins/types.js';
import { TrustedProxies } from './client-address.js';
import type { ConnectionHost } from './connection.js';
import type { EndpointRuntime } from './endpoint.js';
import { answerClientError, logRefusal } from './access-log.js';
import { handleUpgrade, type HandshakeContext } from './handshake.js';
import { Keepalive } from './keepalive.js';
import { Registry } from './registry.js';
import { locationName } from '../config/location-match.js';
import { formatHostPort } from '../config/values.js';
import { Router } from './router.js';
import { unreachableVhosts } from './vhost-ports.js';

export interface StartOptions {
  log: Logger;
  /** Replaces config.listen (`wsgate serve --listen`). */
  listen?: ListenAddress[];
}

export interface RunningGateway {
  readonly addresses: AddressInfo[];
  readonly gateway: Gateway;
  /** Stop accepting, close every socket with 1001, await onDisconnects, destroy handlers. */
  close(): Promise<void>;
}

/** Request head limit (→ 431), Apache's default LimitRequestFieldSize × 2. */
const MAX_HEADER_BYTES = 16 * 1024;
/** Handshake timeout when no endpoint is configured. */
const DEFAULT_HANDSHAKE_SECONDS = 10;

export function formatAddress(address: AddressInfo): string {
  return formatHostPort(address.address, address.port);
}

async function loadEndpoints(config: GatewayConfig, registry: Registry, log: Logger): Promise<Map<EndpointConfig, EndpointRuntime>> {
  const endpoints = new Map<EndpointConfig, EndpointRuntime>();
  try {
    for (const endpoint of config.endpoints) {
      const location = locationName(endpoint);
      const info = { location, handlerPath: endpoint.handler.path, log: log.child({ location }) };
      const handler = await loadHandler(endpoint.handler, config.serverRoot, registry, info);
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

/** What a user can act on: which address, and why the system refused it. */
function listenFailure(address: ListenAddress, err: NodeJS.ErrnoException): string {
  const where = address.host === undefined ? `*:${address.port}` : formatHostPort(address.host, address.port);
  switch (err.code) {
    case 'EADDRINUSE':
      return `${where} is in use by another process (EADDRINUSE)`;
    case 'EACCES':
      return `cannot listen on ${where}: permission denied (EACCES; ports below 1024 need root or CAP_NET_BIND_SERVICE)`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: no network interface of this machine has that address (EADDRNOTAVAIL)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot listen on ${where}: the host name does not resolve (${err.code})`;
    default:
      return `cannot listen on ${where}: ${err.message}`;
  }
}

function listenOn(server: Server, address: ListenAddress): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new WsgateError('IO', listenFailure(address, err), { cause: err, ...(address.loc ? { loc: address.loc } : {}) }));
    };
    server.once('error', onError);
    server.listen({ host: address.host, port: address.port }, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

export async function startGateway(config: GatewayConfig, options: StartOptions): Promise<RunningGateway> {
  const log = options.log;
  const trustedProxies = trustedProxiesOf(config);
  const registry = new Registry();
  const keepalive = new Keepalive();
  const disconnects = new Set<Promise<void>>();
  let onDrained: (() => void) | undefined;
  const host: ConnectionHost = {
    register: (conn) => registry.add(conn),
    unregister: (conn) => {
      conn.endpoint.active--;
      registry.remove(conn);
      if (registry.size === 0) onDrained?.();
    },
    joinGroup: (conn, group) => registry.addToGroup(conn, group),
    leaveGroup: (conn, group) => registry.removeFromGroup(conn, group),
    trackDisconnect: (done) => {
      disconnects.add(done);
      void done.finally(() => disconnects.delete(done));
    },
    keepalive,
  };
  const endpoints = await loadEndpoints(config, registry, log);
  const router = new Router(config);
  let accepting = true;
  const pending = new Set<Socket>();
  const ctx: HandshakeContext = { config, router, registry, endpoints, trustedProxies, host, log, pending, accepting: () => accepting };

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
  const addresses: AddressInfo[] = [];
  try {
    for (const address of options.listen ?? config.listen) {
      const server = createServer({
        maxHeaderSize: MAX_HEADER_BYTES,
        headersTimeout: handshakeMs,
        requestTimeout: handshakeMs,
        // How often node looks for expired handshakes; the default (30 s) is far coarser than the timeout.
        connectionsCheckingInterval: Math.min(1000, Math.max(100, handshakeMs / 4)),
      });
      server.on('request', onRequest);
      server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(ctx, err, socket));
      server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
        void handleUpgrade(ctx, req, socket, head);
      });
      servers.push(server);
      const bound = await listenOn(server, address);
      addresses.push(bound);
      log.info({ address: formatAddress(bound) }, 'listening');
    }
    // A vhost is chosen by port as in Apache; one copied from Apache's side (*:80) never matches here.
    for (const vhost of unreachableVhosts(config, addresses.map((a) => a.port))) {
      const where = vhost.loc ? `${vhost.loc.file}:${vhost.loc.line}` : undefined;
      log.warn(
        { vhost: vhost.addresses.join(' '), serverName: vhost.serverName, where },
        'no listener has this <VirtualHost> port: its Locations are unreachable (use *:PORT of a Listen line, or *)',
      );
    }
  } catch (err) {
    for (const server of servers) server.close();
    await destroyHandlers(endpoints, log);
    throw err;
  }

  let closing: Promise<void> | undefined;
  const shutdown = async (): Promise<void> => {
    accepting = false;
    const serversClosed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const server of servers) server.closeIdleConnections();
    for (const socket of pending) socket.destroy();
    // The longest WebSocketCloseTimeout: for the close handshakes, then again for onDisconnects
    // (a native plugin's on_disconnect may hang; shutdown must not).
    const grace = Math.max(0, ...[...registry.all()].map((c) => c.settings.closeTimeout)) * 1000;
    if (registry.size > 0) {
      const drained = new Promise<void>((resolve) => (onDrained = resolve));
      for (const conn of [...registry.all()]) conn.close(1001, 'server shutting down');
      // Each connection drops itself after its closeTimeout; this is the backstop.
      const backstop = setTimeout(() => {
        for (const conn of [...registry.all()]) conn.destroy();
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
    addresses,
    gateway: registry,
    close: () => (closing ??= shutdown()),
  };
}
