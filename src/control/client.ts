// Clients of a running gateway's control channel (wsgate ctl, tests, scripts): the same
// ControlCommand/ControlResult model over the UNIX socket or over the HTTP API.
import { connect, type Socket } from 'node:net';
import { WsgateError } from '../errors.js';
import type { ControlCommand, ControlResult } from './commands.js';
import type { ConnectionInfo } from './connection-info.js';
import { resultFromJson, requestFor } from './client-http.js';
import { RemoteError, decodeAnswer, encodeRequest, linesAfterStatus } from './wire.js';

export { RemoteError };

export interface ControlClient {
  execute(command: ControlCommand): Promise<ControlResult>;
  close(): Promise<void>;
}

interface Pending {
  command: ControlCommand;
  status: string | undefined;
  lines: string[];
  resolve(result: ControlResult): void;
  reject(err: unknown): void;
}

/** Connects to the control socket; requests may be pipelined (answers come back in order). */
export function connectSocket(path: string, timeoutMs = 5000): Promise<ControlClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new WsgateError('IO', `timed out connecting to ${path}`));
    }, timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new WsgateError('IO', `cannot connect to control socket ${path}: ${connectFailure(err, 'socket')}`, { cause: err }));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(new SocketClient(socket));
    });
  });
}

class SocketClient implements ControlClient {
  private readonly pending: Pending[] = [];
  private partial = '';
  private failure: Error | undefined;

  constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.removeAllListeners('error');
    socket.on('data', (text: string) => this.onData(text));
    socket.on('error', (err) => this.fail(new WsgateError('IO', `control socket error: ${err.message}`, { cause: err })));
    socket.on('close', () => this.fail(new WsgateError('IO', 'the control socket closed the connection')));
  }

  execute(command: ControlCommand): Promise<ControlResult> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ command, status: undefined, lines: [], resolve, reject });
      this.socket.write(encodeRequest(command));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
  }

  private onData(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.onLine(line.replace(/\r$/, ''));
  }

  private onLine(line: string): void {
    const head = this.pending[0];
    if (!head) return;
    if (head.status === undefined) head.status = line;
    else head.lines.push(line);
    if (head.lines.length < linesAfterStatus(head.command, head.status)) return;
    this.pending.shift();
    try {
      head.resolve(decodeAnswer(head.command, head.status, head.lines));
    } catch (err) {
      head.reject(err);
      // Lines not where the protocol puts them: later answers cannot be trusted either.
      if (!(err instanceof RemoteError)) this.socket.destroy();
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.splice(0)) p.reject(err);
  }
}

/** The HTTP API at `url` (e.g. http://127.0.0.1:8081), with an optional bearer token. */
export function httpClient(url: string, token: string | undefined): ControlClient {
  return {
    async execute(command) {
      const { path, init } = requestFor(command);
      const headers = new Headers(init.headers);
      if (token !== undefined) headers.set('Authorization', `Bearer ${token}`);
      let res: Response;
      try {
        res = await fetch(new URL(path, url), { ...init, headers });
      } catch (err) {
        throw new WsgateError('IO', `cannot reach the control API at ${url}: ${connectFailure(fetchCause(err), url)}`, { cause: err });
      }
      const json = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
      if (!res.ok) {
        const error = json?.error as { code?: string; message?: string } | undefined;
        throw new RemoteError(error?.code ?? `HTTP_${res.status}`, error?.message ?? `HTTP ${res.status}`);
      }
      return resultFromJson(command, json ?? {});
    },
    async close() {},
  };
}

export type { ConnectionInfo };

/** fetch() rejects with "fetch failed"; the system error is its cause (or the cause's first error). */
function fetchCause(err: unknown): NodeJS.ErrnoException {
  let cause = (err as { cause?: unknown }).cause ?? err;
  const inner = (cause as { errors?: unknown[] }).errors;
  if (!(cause as NodeJS.ErrnoException).code && Array.isArray(inner) && inner[0]) cause = inner[0];
  return cause as NodeJS.ErrnoException;
}

/** Why a connection to the control channel failed, in words ('socket' for the UNIX socket, else the URL). */
function connectFailure(err: NodeJS.ErrnoException, target: string): string {
  const onSocket = target === 'socket';
  let where = 'it';
  if (!onSocket) {
    try {
      where = new URL(target).host;
    } catch {
      where = target;
    }
  }
  switch (err.code) {
    case 'ECONNREFUSED':
      return onSocket ? 'nothing listens on it (ECONNREFUSED; a socket file left by a stopped gateway?)' : `nothing listens on ${where} (ECONNREFUSED; is the gateway running with WebSocketControlListen?)`;
    case 'ENOENT':
      return 'no such socket file (ENOENT; is the gateway running with WebSocketControlSocket?)';
    case 'EACCES':
      return 'permission denied (EACCES; the socket mode or its directory does not let this user in)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name does not resolve (${err.code})`;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `no answer from ${where} (${err.code})`;
    case undefined:
      // fetch refuses ports browsers block (1, 9, 6000, …) before connecting.
      return err.message === 'bad port' && !onSocket ? `fetch() refuses to connect to port ${new URL(target).port || '?'} (a port browsers block); use another WebSocketControlListen port` : err.message;
    case 'ECONNRESET':
      return `${where} closed the connection (ECONNRESET)`;
    default:
      return err.code ? `${err.message} (${err.code})` : err.message;
  }
}
