// The control socket: a UNIX socket speaking the line protocol (see help.ts), for shells
// (`socat - UNIX-CONNECT:PATH`) and PHP (`fsockopen('unix://PATH')`).
import { unlink } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { isWsgateError, type SourceLocation } from '../errors.js';
import type { RegistryClient } from '../registry/types.js';
import { executeCommand } from './execute.js';
import { parseLineCommand, parsePayloadCommand, payloadLengthOf } from './line-commands.js';
import { locationTest, type LocationTest } from './locations.js';
import { formatError, formatResult } from './line-format.js';
import { LineParser, type LineParserOptions, type LineRequest } from './line-parser.js';
import type { CommandObserver, ServiceProbe } from './probe.js';
import { claimSocketPath, ensureSocketDirectory, fileIdentity, listenWithMode } from './socket-path.js';

export interface SocketServerOptions {
  path: string;
  mode: number;
  loc: SourceLocation | undefined;
  registry: RegistryClient;
  log: Logger;
  limits?: LineParserOptions;
  /** The config's Location names, so <LocationMatch> regexes are known as Locations (locations.ts). */
  locations?: readonly string[];
  /** Answers STATUS. */
  probe?: ServiceProbe | undefined;
  /** Hears every command's verb and result (metrics). */
  onCommand?: CommandObserver | undefined;
}

export interface RunningSocketServer {
  path: string;
  close(): Promise<void>;
}

export async function startSocketServer(options: SocketServerOptions): Promise<RunningSocketServer> {
  const { path, mode, loc, registry, log } = options;
  await ensureSocketDirectory(path, mode, loc, log);
  await claimSocketPath(path, loc, log);
  const clients = new Set<Socket>();
  const isLocation = locationTest(options.locations ?? []);
  const server = createServer((socket) => {
    clients.add(socket);
    socket.once('close', () => clients.delete(socket));
    serveSocketClient(socket, registry, log, { limits: options.limits, isLocation, probe: options.probe, onCommand: options.onCommand });
  });
  await listenWithMode(server, path, mode, loc);
  const identity = await fileIdentity(path);
  log.info({ path, mode: `0${mode.toString(8)}` }, 'control socket listening');
  return {
    path,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of clients) socket.destroy();
      await closed;
      // Node unlinks the socket on close; remove it ourselves only if it is still ours.
      if (identity !== undefined && (await fileIdentity(path)) === identity) await unlink(path).catch(() => undefined);
    },
  };
}

/** One client: requests are answered strictly in order; a batch of pipelined requests that
 *  arrived together is answered with one write. The socket is paused while a batch is answered
 *  (commands may wait on worker processes), so a client cannot queue work without bound. */
export function serveSocketClient(
  socket: Socket,
  registry: RegistryClient,
  log: Logger,
  options: { limits?: LineParserOptions | undefined; isLocation: LocationTest; probe?: ServiceProbe | undefined; onCommand?: CommandObserver | undefined },
): void {
  const parser = new LineParser(payloadLengthOf, options.limits);
  let ending = false;
  socket.on('error', (err) => log.debug({ err }, 'control socket client error'));
  socket.on('drain', () => socket.resume());
  socket.on('data', (chunk: Buffer) => {
    if (ending) return;
    socket.pause();
    void answerBatch(parser.push(chunk)).then((reply) => {
      if (socket.destroyed) return;
      const flushed = reply === '' || socket.write(reply);
      if (ending) socket.end();
      // A client that does not read its answers stays paused until it does ('drain').
      else if (flushed) socket.resume();
    });
  });

  async function answerBatch(requests: Iterable<LineRequest>): Promise<string> {
    let reply = '';
    for (const request of requests) {
      const answer = await answerRequest(request, registry, log, options);
      reply += answer.text;
      if (answer.last) {
        ending = true;
        break;
      }
    }
    return reply;
  }
}

async function answerRequest(
  request: LineRequest,
  registry: RegistryClient,
  log: Logger,
  options: { isLocation: LocationTest; probe?: ServiceProbe | undefined; onCommand?: CommandObserver | undefined },
): Promise<{ text: string; last: boolean }> {
  const { isLocation, onCommand } = options;
  if (request.kind === 'error') {
    onCommand?.('invalid', request.error.code);
    return { text: formatError(request.error), last: request.fatal };
  }
  let verb = 'invalid';
  try {
    const command =
      request.kind === 'line' ? parseLineCommand(request.line, isLocation) : parsePayloadCommand(request.line, request.payload, isLocation);
    verb = command.kind;
    const result = await executeCommand(command, registry, options.probe);
    onCommand?.(verb, 'ok');
    if (command.kind !== 'ping' && command.kind !== 'list' && command.kind !== 'status') log.debug({ command: command.kind }, 'control command');
    return { text: formatResult(result), last: result.kind === 'bye' };
  } catch (err) {
    onCommand?.(verb, isWsgateError(err) ? err.code : 'IO');
    if (!isWsgateError(err)) log.error({ err }, 'control command failed');
    return { text: formatError(err), last: false };
  }
}
