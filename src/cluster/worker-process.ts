// The supervisor's view of one worker process: the child, its Port, what it last said about
// itself, and the numbers the pool routes and watches by.
import { fork, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { IpcPort } from './ipc-port.js';
import { WORKER_ENV, type ListenerRef, type SupervisorMessage } from './messages.js';

/** What one generation of workers runs: `node [execArgv] entry [args]` with `env`, `count` times. */
export interface GenerationSpec {
  entry: string;
  args?: string[];
  /** The workers' whole environment (default: the supervisor's). */
  env?: NodeJS.ProcessEnv;
  /** Node options for the workers (default: the supervisor's process.execArgv). */
  execArgv?: string[];
  count: number;
}

export type WorkerState =
  /** forked, loading its handlers */
  | 'starting'
  /** takes sockets */
  | 'ready'
  /** an older generation's worker finishing its connections */
  | 'draining'
  /** told to stop (pool stop, or an aborted reload) */
  | 'stopping'
  | 'exited';

export interface WorkerIdentity {
  /** Unique for the pool's lifetime (replacements get a new one): a prefix for connection ids. */
  id: number;
  /** 0 … count-1 within its generation; a replacement takes the dead worker's slot. */
  slot: number;
  generation: number;
}

export interface WorkerProcessOptions {
  spec: GenerationSpec;
  identity: WorkerIdentity;
  stdio: 'inherit' | 'ignore';
  now: number;
}

export class WorkerProcess {
  readonly id: number;
  readonly slot: number;
  readonly generation: number;
  readonly child: ChildProcess;
  readonly port: IpcPort;
  readonly startedAt: number;
  state: WorkerState = 'starting';
  /** What the worker last reported about itself (ready info, then `context` messages). */
  context: unknown = undefined;
  /** Last time any message came from it (ms). */
  lastSeen: number;
  /** Sockets it holds, as it last reported. */
  live = 0;
  /** Sockets it had received by that report. */
  received = 0;
  /** Sockets sent to it. */
  handed = 0;
  /** Set when the pool decided to end it (drain/stop deadline passed, hung, not ready in time). */
  killReason: string | undefined;
  /** SIGKILL it if still alive at `at` (ms): ready timeout, drain or stop deadline. */
  deadline: { at: number; reason: string } | undefined;
  private seq = 0;

  constructor(options: WorkerProcessOptions) {
    const { spec, identity, stdio, now } = options;
    this.id = identity.id;
    this.slot = identity.slot;
    this.generation = identity.generation;
    this.startedAt = now;
    this.lastSeen = now;
    const env = {
      ...(spec.env ?? process.env),
      [WORKER_ENV.id]: String(identity.id),
      [WORKER_ENV.slot]: String(identity.slot),
      [WORKER_ENV.generation]: String(identity.generation),
    };
    this.child = fork(spec.entry, spec.args ?? [], {
      env,
      execArgv: spec.execArgv ?? process.execArgv,
      serialization: 'advanced',
      stdio: stdio === 'inherit' ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    this.port = new IpcPort((message) => this.send(message));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sockets it holds plus the ones on their way to it: what least-connections compares. */
  get load(): number {
    return this.live + Math.max(0, this.handed - this.received);
  }

  get alive(): boolean {
    return this.state !== 'exited';
  }

  /** False when the channel is gone (the worker exited or is exiting). */
  send(message: SupervisorMessage, handle?: Socket): boolean {
    if (!this.child.connected) return false;
    try {
      // With a callback, a send on a channel that closed meanwhile reports there, not as an 'error' event.
      if (handle) this.child.send(message, handle, { keepOpen: false }, () => {});
      else this.child.send(message, undefined, {}, () => {});
      return true;
    } catch {
      return false;
    }
  }

  handSocket(socket: Socket, listener: ListenerRef): boolean {
    if (!this.send({ t: 'socket', listener }, socket)) return false;
    this.handed += 1;
    return true;
  }

  ping(): void {
    this.seq += 1;
    this.send({ t: 'heartbeat', seq: this.seq });
  }

  uptimeMs(now: number): number {
    return now - this.startedAt;
  }

  kill(signal: NodeJS.Signals, reason?: string): void {
    if (reason !== undefined && this.killReason === undefined) this.killReason = reason;
    if (this.state === 'exited') return;
    try {
      this.child.kill(signal);
    } catch {
      // already gone: its exit event follows
    }
  }
}
