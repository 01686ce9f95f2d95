// The `upgrade` event: check the request, route it, ask the handler, answer 101 (or refuse),
// then hand the socket to a WsConnection.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { isWsgateError, WsgateError } from '../errors.js';
import type { GatewayConfig } from '../config/model.js';
import {
  detectHandshake,
  hixie76AnswerFromParts,
  hixie76KeyParts,
  hixieResponse,
  hixieResponseHead,
  hybiAcceptKey,
  hybiResponse,
  offeredProtocols,
  requestOrigin,
  validateHybiKey,
} from '../protocol/index.js';
import type { ProtocolVersion } from '../protocol/types.js';
import { logRefusal } from './access-log.js';
import { resolveClientAddress, unmapIPv4, type TrustedProxies } from './client-address.js';
import { ConnectionState, WsConnection, type ConnectionHost } from './connection.js';
import type { EndpointRuntime } from './endpoint.js';
import { requestedId } from '../registry/ids.js';
import { originAllowed } from './origin.js';
import type { HostRegistry } from '../registry/local.js';
import { refuse } from './reply.js';
import type { Router } from './router.js';
import type { EndpointConfig } from '../config/model.js';
import { pageScheme, socketScheme } from './scheme.js';
import { isTlsSocket, type TlsSites } from './tls.js';

export interface HandshakeContext {
  config: GatewayConfig;
  router: Router;
  registry: HostRegistry<WsConnection>;
  endpoints: Map<EndpointConfig, EndpointRuntime>;
  trustedProxies: TrustedProxies;
  host: ConnectionHost;
  log: Logger;
  /** Sockets between `upgrade` and the 101 (or refusal): shutdown destroys them. */
  pending: Set<Socket>;
  /** False once shutdown started: new handshakes get 503. */
  accepting(): boolean;
  /** Certificates and SSLVerifyClient of the TLS vhosts. */
  tls: TlsSites;
}

const HIXIE76_BODY = 8;

function ignoreSocketError(): void {}

function fail(code: WsgateError['code'], status: number, message: string): WsgateError {
  return new WsgateError(code, message, { status });
}

/** Split `req.url` (origin-form, or absolute-form from a proxy) into path and query. */
function splitUrl(url: string): { path: string; search: string } {
  let target = url;
  if (!target.startsWith('/')) {
    try {
      const parsed = new URL(target);
      target = parsed.pathname + parsed.search;
    } catch {
      throw fail('HANDSHAKE_BAD_REQUEST', 400, 'malformed request target');
    }
  }
  const q = target.indexOf('?');
  return q < 0 ? { path: target, search: '' } : { path: target.slice(0, q), search: target.slice(q + 1) };
}

/** The 8 bytes hixie-76 sends after the headers, with its own timer: a slow client cannot hold the socket. */
function readHixieBody(socket: Socket, head: Buffer, timeoutMs: number): Promise<{ body: Buffer; rest: Buffer }> {
  if (head.length >= HIXIE76_BODY) {
    return Promise.resolve({ body: head.subarray(0, HIXIE76_BODY), rest: head.subarray(HIXIE76_BODY) });
  }
  return new Promise((resolve, reject) => {
    let got = head;
    const done = (error: WsgateError | undefined): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (error) reject(error);
      else resolve({ body: got.subarray(0, HIXIE76_BODY), rest: got.subarray(HIXIE76_BODY) });
    };
    const onData = (chunk: Buffer): void => {
      got = got.length === 0 ? chunk : Buffer.concat([got, chunk]);
      if (got.length >= HIXIE76_BODY) done(undefined);
    };
    const onClose = (): void => done(fail('HANDSHAKE_BAD_REQUEST', 400, 'connection closed during the handshake'));
    const timer = setTimeout(() => done(fail('HANDSHAKE_TIMEOUT', 408, 'the draft-76 key body did not arrive in time')), timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.resume();
  });
}

export async function handleUpgrade(ctx: HandshakeContext, req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
  ctx.pending.add(socket);
  // Nothing may be read (and lost) before a decoder is attached; attach() resumes.
  socket.pause();
  // Errors (ECONNRESET…) are followed by 'close', which is what we act on.
  socket.on('error', ignoreSocketError);
  let reservedId: string | undefined;
  let runtime: EndpointRuntime | undefined;
  let conn: WsConnection | undefined;
  let counted = false;
  /** onConnect said yes: from then on the handler must hear onDisconnect, even if the 101 fails. */
  let accepted: WsConnection | undefined;
  /** The 101 head is out (draft-76 waiting for its key bytes): a failure can only drop TCP now. */
  let headWritten = false;
  try {
    if (!ctx.accepting()) throw fail('HANDSHAKE_UNAVAILABLE', 503, 'the gateway is shutting down');
    const kind = detectHandshake(req);
    const { path, search } = splitUrl(req.url ?? '/');
    const endpoint = ctx.router.route(req.headers.host, socket.localPort ?? 0, path);
    runtime = endpoint && ctx.endpoints.get(endpoint);
    if (!endpoint || !runtime) throw fail('HANDSHAKE_NOT_FOUND', 404, `no WebSocket Location matches ${path}`);
    const settings = endpoint.settings;
    const endpointRuntime = runtime;
    if (kind.kind === 'hixie-75' && !settings.supportDraft75) {
      throw fail('HANDSHAKE_BAD_REQUEST', 400, 'draft-75 (hixie-75) handshakes are disabled here: set SupportDraft75 On to accept them');
    }

    let version: ProtocolVersion;
    let accept: string | undefined;
    let rest = head;
    let hixieKeys: readonly [number, number] | undefined;
    if (kind.kind === 'hybi') {
      version = kind.version;
      accept = hybiAcceptKey(validateHybiKey(req.headers));
    } else if (kind.kind === 'hixie-76') {
      version = 'hixie-76';
      const key1 = req.headers['sec-websocket-key1'];
      const key2 = req.headers['sec-websocket-key2'];
      if (typeof key1 !== 'string' || typeof key2 !== 'string') throw fail('HANDSHAKE_BAD_REQUEST', 400, 'missing Sec-WebSocket-Key1/Key2');
      // The 8 key bytes are read after the handler accepted (below); the keys are checked now.
      hixieKeys = hixie76KeyParts(key1, key2);
    } else {
      version = 'hixie-75';
    }

    // A malformed Sec-WebSocket-Protocol (versions 13/8/7) is refused here, before any slot is taken.
    const protocols = offeredProtocols(req.headers, kind);
    const wantedId = search === '' ? undefined : requestedId(new URLSearchParams(search));
    const client = resolveClientAddress(socket.remoteAddress ?? '', req.headers, ctx.config.remoteIp, ctx.trustedProxies);
    const origin = requestOrigin(kind, req.headers);
    const effectiveHost = client.forwardedHost ?? req.headers.host;
    const scheme = client.forwardedProto ?? (isTlsSocket(socket) || endpoint.vhost.tls ? 'https' : 'http');
    const clientCertificate = ctx.tls.clientCertificate(socket, endpoint.vhost);
    if (!originAllowed(settings, { origin, effectiveHost, effectiveScheme: scheme })) {
      throw fail('HANDSHAKE_ORIGIN', 403, `origin ${origin} is not allowed here`);
    }
    if (settings.maxConnections > 0 && endpointRuntime.active >= settings.maxConnections) {
      throw fail('HANDSHAKE_UNAVAILABLE', 503, 'too many connections on this Location (WebSocketMaxConnections)');
    }
    reservedId = await ctx.registry.claim(wantedId);
    if (reservedId === undefined) throw fail('HANDSHAKE_CONFLICT', 409, `a connection with id ${wantedId} is already open`);

    endpointRuntime.active++;
    counted = true;
    conn = new WsConnection({
      id: reservedId,
      path,
      search,
      headers: req.headers,
      remoteAddress: client.address,
      remotePort: socket.remotePort ?? 0,
      version,
      location: endpointRuntime.info.location,
      protocols,
      origin,
      ...(clientCertificate ? { clientCertificate } : {}),
      request: {
        method: req.method ?? 'GET',
        url: req.url ?? path,
        httpVersion: req.httpVersion,
        rawHeaders: req.rawHeaders,
        peerAddress: unmapIPv4(socket.remoteAddress ?? ''),
        localAddress: unmapIPv4(socket.localAddress ?? ''),
        localPort: socket.localPort ?? 0,
        host: effectiveHost,
        scheme,
        serverName: endpoint.vhost.serverName,
      },
      endpoint: endpointRuntime,
      host: ctx.host,
      baseLog: ctx.log,
    });

    const yes = await callOnConnect(ctx.host, endpointRuntime, conn);
    if (!yes || conn.rejection) {
      const { status, reason } = conn.rejection ?? { status: 403, reason: 'Forbidden' };
      conn.connState = ConnectionState.Closed;
      conn = undefined;
      throw fail('HANDSHAKE_FORBIDDEN', status, reason);
    }
    accepted = conn;
    if (socket.destroyed || !socket.readable) {
      // The client left while onConnect ran: the handler accepted, so it hears the end.
      ctx.pending.delete(socket);
      ctx.registry.release(reservedId);
      endpointRuntime.active--;
      counted = false;
      conn.notifyDisconnect(1006, '');
      return;
    }

    const chosen = conn.protocol === '' ? undefined : conn.protocol;
    if (version === 'hixie-76' || version === 'hixie-75') {
      const location = `${socketScheme(pageScheme(scheme) ?? 'http')}://${effectiveHost ?? 'localhost'}${req.url ?? path}`;
      const response = { version, origin, location, protocol: chosen, headers: conn.responseHeaders };
      if (hixieKeys === undefined) {
        socket.write(hixieResponse(response));
      } else if (head.length >= HIXIE76_BODY) {
        // A direct client sent its key bytes with the headers: one write.
        socket.write(hixieResponse({ ...response, answer: hixie76AnswerFromParts(hixieKeys, head.subarray(0, HIXIE76_BODY)) }));
        rest = head.subarray(HIXIE76_BODY);
      } else {
        // Behind mod_proxy the key bytes only come once our head has gone out: send it, then wait.
        socket.write(hixieResponseHead(response));
        headWritten = true;
        const { body, rest: after } = await readHixieBody(socket, head, settings.handshakeTimeout * 1000);
        if (socket.destroyed) throw fail('HANDSHAKE_BAD_REQUEST', 400, 'connection closed during the handshake');
        socket.write(hixie76AnswerFromParts(hixieKeys, body));
        rest = after;
      }
    } else {
      // Sec-WebSocket-Extensions (permessage-deflate) is decided here, once the handler accepted.
      socket.write(hybiResponse(accept!, chosen, [...conn.responseHeaders, ...conn.acceptExtensions()]));
    }
    ctx.pending.delete(socket);
    socket.setNoDelay(true);
    const live = conn;
    counted = false; // from here the connection gives the slot back when it closes
    accepted = undefined;
    live.attach(socket, rest); // logs 'connected'
  } catch (err) {
    ctx.pending.delete(socket);
    if (reservedId !== undefined) ctx.registry.release(reservedId);
    if (runtime && counted) runtime.active--;
    accepted?.notifyDisconnect(1006, '');
    const error = isWsgateError(err) ? err : new WsgateError('HANDLER_FAILED', 'internal error', { status: 500, cause: err });
    if (!isWsgateError(err)) ctx.log.error({ err }, 'handshake failed');
    const status = error.status ?? 400;
    logRefusal(ctx, req, status, error.message, runtime?.config.settings);
    if (headWritten) {
      socket.destroy();
      return;
    }
    const headers: Array<[string, string]> = error.code === 'HANDSHAKE_VERSION' ? [['Sec-WebSocket-Version', '13, 8, 7']] : [];
    refuse(socket, status, headers, error.message);
  }
}

/** onConnect may be sync or async; a throw or rejection refuses with 500 (the handler is at fault, not the client). */
async function callOnConnect(host: ConnectionHost, runtime: EndpointRuntime, conn: WsConnection): Promise<boolean> {
  const onConnect = runtime.handler.onConnect;
  if (onConnect === undefined) return true;
  let result: unknown;
  try {
    result = await onConnect.call(runtime.handler, conn);
  } catch (err) {
    conn.log.error({ err }, 'onConnect failed');
    host.countHandlerError(conn, 'onConnect');
    throw new WsgateError('HANDLER_FAILED', 'the handler failed', { status: 500, cause: err });
  }
  if (result === false) return false;
  if (result !== undefined) conn.state = result;
  return true;
}
