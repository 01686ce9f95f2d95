// The HTTP control API (WebSocketControlListen): JSON over HTTP, bearer-token protected.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { WsgateError, isWsgateError, type SourceLocation } from '../errors.js';
import type { RegistryClient } from '../registry/types.js';
import { isLoopbackHost } from '../config/loopback.js';
import { formatHostPort } from '../config/values.js';
import { bearerMatches, isLocalToolRequest } from './auth.js';
import { executeCommand } from './execute.js';
import { readBody } from './http-body.js';
import { matchRoute, resultJson } from './http-routes.js';

export interface HttpServerOptions {
  host: string;
  port: number;
  loc: SourceLocation | undefined;
  token: string | undefined;
  registry: RegistryClient;
  log: Logger;
}

export interface RunningHttpServer {
  address: AddressInfo;
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { host, port, loc, token, registry, log } = options;
  if (token === undefined) {
    if (!isLoopbackHost(host)) {
      throw new WsgateError(
        'CONTROL_AUTH',
        `WebSocketControlListen ${formatHostPort(host, port)} is not a loopback address and no WebSocketControlToken (or WebSocketControlTokenFile) is set; refusing to expose the control API without a token`,
        { loc },
      );
    }
    log.warn({ host, port }, 'control API without a token: any local process can push and close connections; set WebSocketControlToken');
  }
  const server = createServer((req, res) => {
    handle(req, res, token, registry, log).catch((err: unknown) => {
      log.error({ err }, 'control API request failed');
      if (!res.headersSent) sendJson(res, 500, errorBody('IO', 'internal error'));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new WsgateError('CONTROL_SOCKET', `cannot listen on ${formatHostPort(host, port)} for the control API: ${err.message}`, { loc, cause: err })));
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  log.info({ address: address.address, port: address.port }, 'control API listening');
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, token: string | undefined, registry: RegistryClient, log: Logger): Promise<void> {
  if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
    res.setHeader('WWW-Authenticate', req.headers.authorization ? 'Bearer realm="wsgate", error="invalid_token"' : 'Bearer realm="wsgate"');
    sendJson(res, 401, errorBody('CONTROL_AUTH', 'a valid bearer token is required'));
    return;
  }
  if (token === undefined && !isLocalToolRequest(req.headers)) {
    sendJson(res, 403, errorBody('CONTROL_AUTH', 'without WebSocketControlToken, requests from browsers (Origin) or for non-loopback host names are refused'));
    return;
  }
  try {
    const route = matchRoute(req.method ?? 'GET', new URL(req.url ?? '/', 'http://control.invalid'));
    if (route === undefined) throw new WsgateError('CONTROL_NOT_FOUND', 'no such resource', { status: 404 });
    if (route.command === undefined) {
      res.setHeader('Allow', route.allow.join(', '));
      throw new WsgateError('CONTROL_COMMAND', `method ${req.method} is not allowed here`, { status: 405 });
    }
    const body = route.readsBody ? await readBody(req) : Buffer.alloc(0);
    const result = await executeCommand(route.command(body, req.headers['content-type']), registry);
    sendJson(res, 200, resultJson(result));
  } catch (err) {
    if (!isWsgateError(err)) throw err;
    log.debug({ code: err.code, url: req.url }, 'control API request refused');
    // After a body over the limit the rest of the request is unread: do not keep the connection.
    if (err.status === 413) res.setHeader('Connection', 'close');
    sendJson(res, err.status ?? 400, errorBody(err.code, err.message));
  }
}

function errorBody(code: string, message: string): unknown {
  return { error: { code, message } };
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
