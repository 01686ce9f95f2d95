// The worker's side of the pool: receives sockets from the supervisor, answers heartbeats,
// reports its load, runs the embedder's drain/stop callbacks and then exits. A worker whose
// supervisor is gone (IPC channel closed) stops by itself: no orphans.
import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { WsgateError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Port } from '../registry/port.js';
import { IpcPort } from './ipc-port.js';
import { isSupervisorMessage, WORKER_ENV, type ListenerRef, type WorkerMessage } from './messages.js';
import type { WorkerIdentity } from './worker-process.js';

export type { ListenerRef, WorkerIdentity };

export interface WorkerRuntimeOptions {
  /** A socket accepted by the supervisor on `listener`. Call `httpServer.emit('connection', socket)`
   *  synchronously: the socket starts reading as soon as this returns. */
  onSocket(socket: Socket, listener: ListenerRef): void;
  /** A newer generation took over: let connections finish, close the rest with 1012 after
   *  deadlineMs. The process exits when the returned promise settles. Default: exit at once. */
  onDrain?(deadlineMs: number): Promise<void> | void;
  /** Shut down: close connections with 1001 within deadlineMs. The process exits when the returned
   *  promise settles. Also runs when the supervisor disappears and on SIGTERM. Default: exit at once. */
  onStop?(deadlineMs: number): Promise<void> | void;
  /** What this worker runs (Locations, handlers): the supervisor logs it if the worker dies. */
  context?: unknown;
  /** Deadline for onStop when the supervisor is gone or on SIGTERM (default 5000 ms). */
  orphanDeadlineMs?: number;
  /** The worker exits this long after a drain/stop deadline even if the callback never settles (default 5000 ms). */
  exitGraceMs?: number;
}

export interface WorkerRuntime {
  identity: WorkerIdentity;
  /** The registry's channel to the supervisor. */
  port: Port;
  /** Handlers are loaded: the supervisor may send sockets. `info` replaces the context. */
  ready(info?: unknown): void;
  /** Replaces what the supervisor logs about this worker if it dies. */
  setContext(context: unknown): void;
  /** Sockets this worker holds now (counted from onSocket until each socket closes). */
  readonly liveSockets: number;
  /** The worker cannot serve (its handlers do not load): the context (why) reaches the supervisor,
   *  then the process exits with `code`. */
  fail(context: unknown, code: number): Promise<never>;
}

/** This process's identity in its pool, or undefined when it was not started by one. */
export function workerIdentity(env: NodeJS.ProcessEnv = process.env): WorkerIdentity | undefined {
  const id = Number(env[WORKER_ENV.id]);
  const slot = Number(env[WORKER_ENV.slot]);
  const generation = Number(env[WORKER_ENV.generation]);
  if (![id, slot, generation].every(Number.isInteger) || env[WORKER_ENV.id] === undefined) return undefined;
  return { id, slot, generation };
}

/** Log fields that say which worker wrote a line: `worker` is the slot, as in the supervisor's lines. */
export function workerLogBindings(identity: WorkerIdentity): Record<string, number> {
  return { worker: identity.slot, workerId: identity.id, generation: identity.generation };
}

export function tagWorkerLogger(logger: Logger, identity: WorkerIdentity): Logger {
  return logger.child(workerLogBindings(identity));
}

/** An http.Server fed by `emit('connection', socket)` never listens, and node starts its
 *  connection tracking (headersTimeout, requestTimeout, closeIdleConnections) only on 'listening'.
 *  Call this once on such a server in a worker. */
export function trackHttpConnections(server: HttpServer): void {
  if (!server.listening) server.emit('listening');
}

export function startWorkerRuntime(options: WorkerRuntimeOptions): WorkerRuntime {
  const identity = workerIdentity();
  if (!identity || typeof process.send !== 'function') {
    throw new WsgateError('USAGE', 'startWorkerRuntime: this process was not started by a wsgate worker pool');
  }
  const send = (message: WorkerMessage): boolean => {
    if (!process.connected) return false;
    try {
      process.send!(message, undefined, {}, () => {});
      return true;
    } catch {
      return false;
    }
  };
  const port = new IpcPort((message) => send(message));
  const orphanDeadlineMs = options.orphanDeadlineMs ?? 5000;
  const exitGraceMs = options.exitGraceMs ?? 5000;
  let live = 0;
  let received = 0;
  let loadQueued = false;
  let finishing: 'drain' | 'stop' | undefined;

  // Coalesced: a burst of sockets opening or closing costs one message.
  const queueLoad = (): void => {
    if (loadQueued) return;
    loadQueued = true;
    setImmediate(() => {
      loadQueued = false;
      send({ t: 'load', live, received });
    });
  };

  const finish = (kind: 'drain' | 'stop', deadlineMs: number): void => {
    if (finishing === 'stop' || finishing === kind) return;
    finishing = kind;
    const callback = kind === 'drain' ? options.onDrain : options.onStop;
    // The backstop: a callback that never settles must not keep the worker alive.
    setTimeout(() => process.exit(0), deadlineMs + exitGraceMs).unref();
    Promise.resolve()
      .then(() => callback?.(deadlineMs))
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };

  process.on('message', (message: unknown, handle: unknown) => {
    if (!isSupervisorMessage(message)) return;
    switch (message.t) {
      case 'socket': {
        const socket = handle as Socket | undefined;
        if (!socket) return;
        received += 1;
        live += 1;
        socket.once('close', () => {
          live -= 1;
          queueLoad();
        });
        queueLoad();
        options.onSocket(socket, message.listener);
        return;
      }
      case 'heartbeat':
        send({ t: 'heartbeat', seq: message.seq });
        return;
      case 'drain':
        finish('drain', message.deadlineMs);
        return;
      case 'stop':
        finish('stop', message.deadlineMs);
        return;
      case 'port':
        port.deliver(message.data);
        return;
    }
  });
  process.on('disconnect', () => {
    port.close();
    finish('stop', orphanDeadlineMs);
  });
  // Ctrl-C reaches the whole process group: the supervisor decides how workers stop.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => finish('stop', orphanDeadlineMs));

  if (options.context !== undefined) send({ t: 'context', context: options.context });
  return {
    identity,
    port,
    ready: (info?: unknown) => {
      send({ t: 'ready', info });
    },
    setContext: (context: unknown) => {
      send({ t: 'context', context });
    },
    get liveSockets() {
      return live;
    },
    fail: (context: unknown, code: number) =>
      new Promise<never>(() => {
        // Exit once the message is written, so the supervisor has the context before the exit.
        if (!process.connected) process.exit(code);
        process.send!({ t: 'context', context } satisfies WorkerMessage, undefined, {}, () => process.exit(code));
      }),
  };
}
