// The HTTP control API (WebSocketControlListen): JSON over HTTP, bearer-token protected.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { WsgateError, isWsgateError, type SourceLocation } from '../errors.js';
import type { RegistryClient } from '../registry/types.js';
import { isLoopbackHost } from '../config/loopback.js';
import { formatHostPort } from '../config/values.js';
import { bearerMatches, isLocalToolRequest } from './auth.js';
import { controlLimits, type ControlCommand, type ControlLimitValues } from './commands.js';
import { executeCommand } from './execute.js';
import { BodyAborted, readBody, tooLarge } from './http-body.js';
import { matchRoute, resultJson } from './http-routes.js';
import type { CommandObserver, ServiceProbe } from './probe.js';

/** As the WebSocket port (WebSocketHandshakeTimeout's default): the request head within 10 s,
 *  also for a connection that sends nothing; the whole request, body included, within 30 s. */
export const controlHeadersTimeoutMs = 10_000;
export const controlRequestTimeoutMs = 30_000;
/** Connections to the API at a time: with the body cap, what unfinished requests can hold is at
 *  most this × the largest body (about 180 MB with the default WebSocketControlMaxPayload). */
export const controlMaxConnections = 128;

export interface HttpServerOptions {
  host: string;
  port: number;
  loc: SourceLocation | undefined;
  token: string | undefined;
  registry: RegistryClient;
  log: Logger;
  /** WebSocketControlMaxPayload (undefined: the default). */
  maxPayload?: number | undefined;
  /** For tests: shorter than controlHeadersTimeoutMs / controlRequestTimeoutMs. */
  timeouts?: { headersMs: number; requestMs: number };
  /** Answers GET /metrics, /readyz and /status (absent: 404 there; /healthz always answers). */
  probe?: ServiceProbe | undefined;
  onCommand?: CommandObserver | undefined;
  /** WebSocketMetricsListen: /metrics, /healthz and /readyz only, no control commands. */
  metricsOnly?: boolean;
}

export interface RunningHttpServer {
  address: AddressInfo;
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { host, port, loc, token, log } = options;
  const [directive, what] = options.metricsOnly ? ['WebSocketMetricsListen', 'the metrics'] : ['WebSocketControlListen', 'the control API'];
  if (token === undefined) {
    if (!isLoopbackHost(host)) {
      throw new WsgateError(
        'CONTROL_AUTH',
        `${directive} ${formatHostPort(host, port)} is not a loopback address and no WebSocketControlToken (or WebSocketControlTokenFile) is set; refusing to expose ${what} without a token`,
        { loc },
      );
    }
    if (!options.metricsOnly) log.warn({ host, port }, 'control API without a token: any local process can push and close connections; set WebSocketControlToken');
  }
  const limits = controlLimits(options.maxPayload);
  const headersMs = options.timeouts?.headersMs ?? controlHeadersTimeoutMs;
  const requestMs = options.timeouts?.requestMs ?? controlRequestTimeoutMs;
  const server = createServer(
    {
      headersTimeout: headersMs,
      requestTimeout: requestMs,
      // How often node looks for expired requests; its default (30 s) is far coarser than the timeouts.
      connectionsCheckingInterval: Math.min(1000, Math.max(100, headersMs / 4)),
    },
    (req, res) => {
      handle(req, res, options, limits).catch((err: unknown) => {
        if (err instanceof BodyAborted) {
          // The client's own doing (it reset or closed mid-body): nothing to answer, no stack.
          log.debug({ url: req.url, reason: err.message }, 'control API request aborted by the client');
          res.destroy();
          return;
        }
        log.error({ err }, 'control API request failed');
        if (!res.headersSent) sendJson(res, 500, errorBody('IO', 'internal error'));
        else res.destroy();
      });
    },
  );
  server.maxConnections = controlMaxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new WsgateError('CONTROL_SOCKET', `cannot listen on ${formatHostPort(host, port)} for ${what}: ${err.message}`, { loc, cause: err })));
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  log.info({ address: address.address, port: address.port }, options.metricsOnly ? 'metrics listening' : 'control API listening');
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, options: HttpServerOptions, limits: ControlLimitValues): Promise<void> {
  const { token, registry, log, probe, onCommand } = options;
  if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
    res.setHeader('WWW-Authenticate', req.headers.authorization ? 'Bearer realm="wsgate", error="invalid_token"' : 'Bearer realm="wsgate"');
    sendJson(res, 401, errorBody('CONTROL_AUTH', 'a valid bearer token is required'));
    return;
  }
  if (token === undefined && !isLocalToolRequest(req.headers)) {
    sendJson(res, 403, errorBody('CONTROL_AUTH', 'without WebSocketControlToken, requests from browsers (Origin) or for non-loopback host names are refused'));
    return;
  }
  const url = new URL(req.url ?? '/', 'http://control.invalid');
  if (await answerProbe(req, res, url.pathname, probe)) return;
  let verb = 'invalid';
  try {
    const route = options.metricsOnly ? undefined : matchRoute(req.method ?? 'GET', url);
    if (route === undefined) throw new WsgateError('CONTROL_NOT_FOUND', 'no such resource', { status: 404 });
    if (route.command === undefined) {
      res.setHeader('Allow', route.allow.join(', '));
      throw new WsgateError('CONTROL_COMMAND', `method ${req.method} is not allowed here`, { status: 405 });
    }
    const body = route.readsBody ? await readBody(req, limits.maxBodyBytes) : Buffer.alloc(0);
    const command = route.command(body, req.headers['content-type']);
    verb = command.kind;
    if (payloadSize(command) > limits.maxPayloadBytes) throw tooLarge(limits.maxPayloadBytes);
    const result = await executeCommand(command, registry, probe);
    onCommand?.(verb, 'ok');
    sendJson(res, 200, resultJson(result));
  } catch (err) {
    // A path that names no command is not counted as one.
    if (verb !== 'invalid' || (isWsgateError(err) && err.status !== 404)) onCommand?.(verb, isWsgateError(err) ? err.code : 'IO');
    if (!isWsgateError(err)) throw err;
    log.debug({ code: err.code, url: req.url }, 'control API request refused');
    // After a body over the limit the rest of the request is unread: do not keep the connection.
    if (err.status === 413) res.setHeader('Connection', 'close');
    sendJson(res, err.status ?? 400, errorBody(err.code, err.message));
  }
}

const startedAt = Date.now();

/** GET /healthz (the process answers), /readyz (probe.readiness: 200 or 503) and /metrics. */
async function answerProbe(req: IncomingMessage, res: ServerResponse, path: string, probe: ServiceProbe | undefined): Promise<boolean> {
  if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    sendJson(res, 405, errorBody('CONTROL_COMMAND', `method ${req.method} is not allowed here`));
    return true;
  }
  if (path === '/healthz') {
    sendJson(res, 200, { status: 'ok', pid: process.pid, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) });
    return true;
  }
  if (!probe) {
    sendJson(res, 404, errorBody('CONTROL_NOT_FOUND', 'no such resource'));
    return true;
  }
  if (path === '/readyz') {
    const report = await probe.readiness();
    sendJson(res, report.ok ? 200 : 503, { status: report.ok ? 'ready' : 'not ready', checks: report.checks });
    return true;
  }
  const { contentType, body } = await probe.metrics();
  res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}

function payloadSize(command: ControlCommand): number {
  if (command.kind !== 'send' && command.kind !== 'broadcast') return 0;
  return typeof command.data === 'string' ? Buffer.byteLength(command.data) : command.data.length;
}

function errorBody(code: string, message: string): unknown {
  return { error: { code, message } };
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
