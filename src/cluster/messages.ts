// What the supervisor and its workers say to each other over Node's IPC channel (advanced
// serialization: Buffers cross as bytes). Every message has a `t`; `port` wraps the registry's
// own traffic so it can never be taken for one of these.

/** The configured address a socket was accepted on (port: the bound one, also for `Listen …:0`). */
export interface ListenerRef {
  host: string | undefined;
  port: number;
  /** `Listen … https`: the worker terminates TLS (also when a TLS vhost names the port). */
  protocol?: 'http' | 'https';
}

/** Supervisor → worker. */
export type SupervisorMessage =
  /** Carries the accepted socket as its handle. */
  | { t: 'socket'; listener: ListenerRef }
  /** Answer with the same seq: proves the worker's event loop turns. */
  | { t: 'heartbeat'; seq: number }
  /** A newer generation took over: finish connections, close the rest (1012) after deadlineMs, exit. */
  | { t: 'drain'; deadlineMs: number }
  /** Shut down: close connections (1001) within deadlineMs, exit. */
  | { t: 'stop'; deadlineMs: number }
  | { t: 'port'; data: unknown };

/** Worker → supervisor. */
export type WorkerMessage =
  /** Handlers are loaded: the worker may now receive sockets. `info` is kept as its context. */
  | { t: 'ready'; info: unknown }
  | { t: 'heartbeat'; seq: number }
  /** live: sockets it holds now; received: sockets it was handed in total (so the supervisor can
   *  count the ones still in flight). */
  | { t: 'load'; live: number; received: number }
  /** What the worker runs (Locations, handlers): logged with its death. */
  | { t: 'context'; context: unknown }
  | { t: 'port'; data: unknown };

/** Environment variables a worker is started with (read by worker-runtime.ts). */
export const WORKER_ENV = {
  id: 'WSGATE_WORKER_ID',
  slot: 'WSGATE_WORKER_SLOT',
  generation: 'WSGATE_WORKER_GENERATION',
} as const;

const SUPERVISOR_TYPES = new Set(['socket', 'heartbeat', 'drain', 'stop', 'port']);
const WORKER_TYPES = new Set(['ready', 'heartbeat', 'load', 'context', 'port']);

function tagOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? (value as { t?: unknown }).t : undefined;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

export function isSupervisorMessage(value: unknown): value is SupervisorMessage {
  const t = tagOf(value);
  if (typeof t !== 'string' || !SUPERVISOR_TYPES.has(t)) return false;
  const m = value as Record<string, unknown>;
  switch (t) {
    case 'socket': {
      const l = m.listener as Record<string, unknown> | undefined;
      return typeof l === 'object' && l !== null && isFiniteNumber(l.port);
    }
    case 'heartbeat':
      return isFiniteNumber(m.seq);
    case 'drain':
    case 'stop':
      return isFiniteNumber(m.deadlineMs);
    default:
      return true;
  }
}

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  const t = tagOf(value);
  if (typeof t !== 'string' || !WORKER_TYPES.has(t)) return false;
  const m = value as Record<string, unknown>;
  switch (t) {
    case 'heartbeat':
      return isFiniteNumber(m.seq);
    case 'load':
      return isFiniteNumber(m.live) && isFiniteNumber(m.received);
    default:
      return true;
  }
}
