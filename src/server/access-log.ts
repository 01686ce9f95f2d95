// The connection log's lines for clients that never got a connection: refused handshakes, plain
// HTTP requests, and requests node's HTTP parser could not read. A connection's own lines
// (connected, disconnected) are written by connection.ts. All at info: an operator at the default
// LogLevel must be able to see why a browser got no WebSocket. WebSocketConnectionLog Off silences them.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { EndpointSettings, GatewayConfig } from '../config/model.js';
import { resolveClientAddress, type TrustedProxies } from './client-address.js';
import { refuse } from './reply.js';
import type { GatewayStats } from './stats.js';

export interface AccessLogContext {
  config: GatewayConfig;
  trustedProxies: TrustedProxies;
  log: Logger;
  /** Counts each refusal by status (metrics), whether or not it is logged. */
  stats?: GatewayStats;
}

/** WebSocketConnectionLog for a request: its Location's value, else (no Location matched) the main server's. */
export function connectionLogOn(config: GatewayConfig, settings: EndpointSettings | undefined): boolean {
  return settings?.connectionLog ?? config.connectionLog ?? true;
}

/** One line per refused request: what was asked, by whom (the client behind trusted proxies), and why. */
export function logRefusal(
  ctx: AccessLogContext,
  req: IncomingMessage,
  status: number,
  reason: string,
  settings: EndpointSettings | undefined,
  message = 'handshake refused',
): void {
  ctx.stats?.answered(status);
  if (!connectionLogOn(ctx.config, settings)) return;
  const client = resolveClientAddress(req.socket.remoteAddress ?? '', req.headers, ctx.config.remoteIp, ctx.trustedProxies);
  ctx.log.info(
    {
      status,
      reason,
      method: req.method,
      url: req.url,
      host: req.headers.host,
      remote: client.address,
      userAgent: req.headers['user-agent'],
      // hybi-07/08 browsers sent Sec-WebSocket-Origin.
      origin: req.headers.origin ?? req.headers['sec-websocket-origin'],
    },
    message,
  );
}

/** Node's HTTP parser gave up on a request (malformed, head too large, too slow): answer it as node
 *  would by default (400, 431, 408), and log it. No headers were read, so `remote` is the TCP peer. */
export function answerClientError(ctx: AccessLogContext, err: NodeJS.ErrnoException & { reason?: string }, socket: Socket): void {
  // A reset client cannot read an answer; an ended socket was answered already (the parser reports each later chunk again).
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'request headers over 16 KiB']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'the request headers did not arrive within WebSocketHandshakeTimeout']
        : [400, `malformed request (${err.code ?? 'parse error'}${err.reason ? `: ${err.reason}` : ''})`];
  ctx.stats?.answered(status);
  if (connectionLogOn(ctx.config, undefined)) ctx.log.info({ status, reason, remote: socket.remoteAddress }, 'request refused');
  refuse(socket, status, [], reason);
}
