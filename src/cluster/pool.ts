// The supervisor: holds the listeners, forks the workers of the current generation, hands each
// accepted socket to the ready worker with the fewest connections, replaces workers that die
// (with back-off), kills the ones that stop answering, and swaps generations on reload.
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from '../config/model.js';
import { isWsgateError, WsgateError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Port } from '../registry/port.js';
import { RestartBackoff, type BackoffOptions } from './backoff.js';
import { HeldSockets } from './held-sockets.js';
import { formatBound, ListenerSet } from './listeners.js';
import { isWorkerMessage, type ListenerRef } from './messages.js';
import { WorkerProcess, type GenerationSpec, type WorkerState } from './worker-process.js';

export type { GenerationSpec, WorkerState };

export interface PoolOptions {
  spec: GenerationSpec;
  listen: readonly ListenAddress[];
  logger: Logger;
  /** How often every worker is pinged (default 1000 ms). */
  heartbeatIntervalMs?: number;
  /** A worker silent this long is hung: killed and replaced (default 10 000 ms). */
  hangTimeoutMs?: number;
  /** A worker not ready this long after its fork is killed (default 30 000 ms). */
  readyTimeoutMs?: number;
  /** After a drain or stop deadline, how long a worker has to exit before SIGKILL (default 5000 ms). */
  killGraceMs?: number;
  backoff?: Partial<BackoffOptions>;
  /** Sockets held while no worker can take them (default 1024), and for how long each (5000 ms). */
  holdLimit?: number;
  holdTimeoutMs?: number;
  /** The workers' stdout/stderr (default: the supervisor's). */
  workerStdio?: 'inherit' | 'ignore';
  /** A worker of any generation became ready (the registry attaches to its port here). */
  onWorkerReady?: (worker: WorkerHandle) => void;
  /** A worker process was forked. */
  onWorkerStart?: (worker: WorkerHandle) => void;
  /** A worker process is gone (after it was logged). */
  onWorkerExit?: (exit: WorkerExit) => void;
}

export interface WorkerHandle {
  id: number;
  slot: number;
  generation: number;
  pid: number | undefined;
  /** The registry's channel to this worker; closes when it exits. */
  port: Port;
  /** What the worker last reported about itself. */
  context: unknown;
}

export interface WorkerExit {
  id: number;
  slot: number;
  generation: number;
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  uptimeMs: number;
  context: unknown;
  /** True for exits the pool asked for (drain, stop, aborted reload). */
  planned: boolean;
  /** Why the pool killed it, when it did ('hung …', 'not ready …', 'drain deadline …'). */
  reason: string | undefined;
  /** When it is replaced: after this many ms. */
  restartInMs: number | undefined;
}

export interface WorkerInfo {
  id: number;
  slot: number;
  generation: number;
  pid: number | undefined;
  state: WorkerState;
  /** Sockets it holds plus those on their way to it. */
  load: number;
  uptimeMs: number;
  context: unknown;
}

export interface ReloadOptions {
  /** The new Listen addresses: added ones are bound before the switch (a failure aborts the
   *  reload), removed ones closed after it. Default: keep the listeners. */
  listen?: readonly ListenAddress[];
  /** How long old workers may keep their connections (default 30 000 ms). */
  drainDeadlineMs?: number;
}

export interface StopOptions {
  /** How long workers have to close their connections (default 5000 ms); then killGraceMs, then SIGKILL. */
  deadlineMs?: number;
}

interface Slot {
  backoff: RestartBackoff;
  worker: WorkerProcess | undefined;
  restartTimer: NodeJS.Timeout | undefined;
}

interface Generation {
  number: number;
  spec: GenerationSpec;
  slots: Slot[];
  /** Until it takes over: settles when all its workers are ready, or one dies first. */
  pending: { resolve: () => void; reject: (reason: string) => void } | undefined;
}

const DEFAULTS = {
  heartbeatIntervalMs: 1000,
  hangTimeoutMs: 10_000,
  readyTimeoutMs: 30_000,
  killGraceMs: 5000,
  holdLimit: 1024,
  holdTimeoutMs: 5000,
  drainDeadlineMs: 30_000,
  stopDeadlineMs: 5000,
};

/** Binds the listeners, starts the first generation and resolves once all its workers are ready
 *  (rejects, with everything closed again, when a listener cannot be bound or a worker fails). */
export async function startPool(options: PoolOptions): Promise<WorkerPool> {
  const pool = new WorkerPool(options);
  await pool.start();
  return pool;
}

export class WorkerPool {
  private readonly log: Logger;
  private readonly listenerSet: ListenerSet;
  private readonly held: HeldSockets;
  private readonly workersById = new Map<number, WorkerProcess>();
  private readonly generations = new Map<number, Generation>();
  private readonly heartbeatIntervalMs: number;
  private readonly hangTimeoutMs: number;
  private readonly readyTimeoutMs: number;
  private readonly killGraceMs: number;
  private currentGeneration = 0;
  private lastGeneration = 0;
  private nextWorkerId = 0;
  private tick: NodeJS.Timeout | undefined;
  private reloadChain: Promise<unknown> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private allExited: (() => void) | undefined;
  private holdWarned = false;

  constructor(private readonly options: PoolOptions) {
    validateSpec(options.spec);
    this.log = options.logger.child({ supervisor: true });
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs;
    this.hangTimeoutMs = options.hangTimeoutMs ?? DEFAULTS.hangTimeoutMs;
    this.readyTimeoutMs = options.readyTimeoutMs ?? DEFAULTS.readyTimeoutMs;
    this.killGraceMs = options.killGraceMs ?? DEFAULTS.killGraceMs;
    this.held = new HeldSockets(options.holdLimit ?? DEFAULTS.holdLimit, options.holdTimeoutMs ?? DEFAULTS.holdTimeoutMs);
    this.listenerSet = new ListenerSet((socket, listener) => this.accept(socket, listener));
  }

  /** The generation new sockets go to (0 before the first is ready). */
  get generation(): number {
    return this.currentGeneration;
  }

  /** Sockets waiting for a worker now. */
  get heldSockets(): number {
    return this.held.size;
  }

  listeners(): { address: ListenAddress; bound: AddressInfo }[] {
    return this.listenerSet.list();
  }

  workers(): WorkerInfo[] {
    const now = Date.now();
    return [...this.workersById.values()].map((w) => ({
      id: w.id,
      slot: w.slot,
      generation: w.generation,
      pid: w.pid,
      state: w.state,
      load: w.load,
      uptimeMs: w.uptimeMs(now),
      context: w.context,
    }));
  }

  /** Use startPool. */
  async start(): Promise<void> {
    await this.listenerSet.add(this.options.listen);
    for (const { bound } of this.listenerSet.list()) this.log.info({ address: formatBound(bound), workers: this.options.spec.count }, 'listening');
    this.tick = setInterval(() => this.onTick(), this.heartbeatIntervalMs);
    this.tick.unref();
    try {
      await this.reload(this.options.spec);
    } catch (err) {
      await this.stop({ deadlineMs: 0 });
      throw err;
    }
  }

  /** Starts a generation of `spec`; once all its workers are ready, new sockets go only to them
   *  and the previous generation drains. A worker that dies or is not ready in time aborts the
   *  reload (the new workers are killed, the old generation keeps serving) with a WsgateError. */
  reload(spec: GenerationSpec, options: ReloadOptions = {}): Promise<{ generation: number }> {
    const run = this.reloadChain.then(() => this.runReload(spec, options));
    this.reloadChain = run.catch(() => undefined);
    return run;
  }

  /** Opens the addresses not yet listened on, then closes the ones not in `addresses`. Sockets
   *  already accepted are unaffected. A bind failure throws (and opens nothing). */
  async setListeners(addresses: readonly ListenAddress[]): Promise<void> {
    const opened = await this.listenerSet.add(this.listenerSet.missing(addresses));
    this.logOpened(opened);
    this.listenerSet.retain(addresses);
  }

  /** Closes the listeners, tells every worker to stop (close 1001 within deadlineMs), SIGKILLs
   *  those still alive killGraceMs later, and resolves when every worker has exited. */
  stop(options: StopOptions = {}): Promise<void> {
    this.stopping ??= this.runStop(options.deadlineMs ?? DEFAULTS.stopDeadlineMs);
    return this.stopping;
  }

  private async runReload(spec: GenerationSpec, options: ReloadOptions): Promise<{ generation: number }> {
    validateSpec(spec);
    if (this.stopping) throw new WsgateError('IO', 'the worker pool is stopping');
    const previous = this.generations.get(this.currentGeneration);
    const gen = this.newGeneration(spec);
    const ready = new Promise<void>((resolve, reject) => {
      gen.pending = { resolve, reject: (reason) => reject(new Error(reason)) };
    });
    for (let i = 0; i < gen.slots.length; i++) this.spawn(gen, i);
    const abort = (message: string): WsgateError => {
      for (const slot of gen.slots) {
        clearTimeout(slot.restartTimer);
        if (slot.worker) {
          slot.worker.state = 'stopping';
          slot.worker.kill('SIGKILL', 'reload aborted');
        }
      }
      this.generations.delete(gen.number);
      const keeps = previous ? `; generation ${previous.number} keeps serving` : '';
      this.log.error({ generation: gen.number, reason: message }, `generation ${gen.number} aborted${keeps}`);
      return new WsgateError('IO', `${message}${keeps}`);
    };
    try {
      await ready;
    } catch (err) {
      throw abort(`workers of generation ${gen.number} failed to start: ${(err as Error).message}`);
    }
    if (this.stopping) throw abort('reload aborted: the worker pool is stopping');
    if (options.listen) {
      try {
        this.logOpened(await this.listenerSet.add(this.listenerSet.missing(options.listen)));
      } catch (err) {
        throw abort(`reload aborted: ${isWsgateError(err) ? err.format() : (err as Error).message}`);
      }
    }
    this.currentGeneration = gen.number;
    this.log.info({ generation: gen.number, workers: gen.slots.length }, `generation ${gen.number} serves`);
    this.flushHeld();
    if (options.listen) this.listenerSet.retain(options.listen);
    if (previous) this.drainGeneration(previous, options.drainDeadlineMs ?? DEFAULTS.drainDeadlineMs);
    return { generation: gen.number };
  }

  private newGeneration(spec: GenerationSpec): Generation {
    this.lastGeneration += 1;
    const gen: Generation = {
      number: this.lastGeneration,
      spec,
      slots: Array.from({ length: spec.count }, () => ({
        backoff: new RestartBackoff(this.options.backoff),
        worker: undefined,
        restartTimer: undefined,
      })),
      pending: undefined,
    };
    this.generations.set(gen.number, gen);
    return gen;
  }

  private drainGeneration(gen: Generation, deadlineMs: number): void {
    const now = Date.now();
    for (const slot of gen.slots) {
      clearTimeout(slot.restartTimer);
      slot.restartTimer = undefined;
      const w = slot.worker;
      if (!w || !w.alive) continue;
      if (w.state === 'starting') {
        // A replacement still loading the old config: it holds nothing, end it now.
        w.state = 'stopping';
        w.kill('SIGKILL', 'superseded before it was ready');
        continue;
      }
      w.state = 'draining';
      w.send({ t: 'drain', deadlineMs });
      w.deadline = { at: now + deadlineMs + this.killGraceMs, reason: 'drain deadline passed' };
    }
    if (gen.slots.every((s) => !s.worker)) this.generations.delete(gen.number);
  }

  private spawn(gen: Generation, slotIndex: number): void {
    const slot = gen.slots[slotIndex]!;
    slot.restartTimer = undefined;
    if (this.stopping || this.generations.get(gen.number) !== gen) return;
    const now = Date.now();
    slot.backoff.started(now);
    const identity = { id: ++this.nextWorkerId, slot: slotIndex, generation: gen.number };
    let w: WorkerProcess;
    try {
      w = new WorkerProcess({ spec: gen.spec, identity, stdio: this.options.workerStdio ?? 'inherit', now });
    } catch (err) {
      // fork itself failed (EAGAIN, bad execArgv…): back off as for a quick death.
      const delay = slot.backoff.died(Date.now());
      this.log.error({ err, worker: slotIndex, generation: gen.number, restartInMs: delay }, 'cannot start worker');
      if (gen.pending) gen.pending.reject(`cannot start worker ${slotIndex}: ${(err as Error).message}`);
      else slot.restartTimer = setTimeout(() => this.spawn(gen, slotIndex), delay);
      return;
    }
    w.deadline = { at: now + this.readyTimeoutMs, reason: `not ready within ${this.readyTimeoutMs} ms` };
    slot.worker = w;
    this.workersById.set(w.id, w);
    w.child.on('message', (message: unknown) => this.onMessage(w, message));
    w.child.on('exit', (code, signal) => this.onExit(w, code, signal));
    w.child.on('error', (err) => {
      this.log.error({ err, ...this.fields(w) }, 'worker process error');
      if (w.pid === undefined) this.onExit(w, null, null);
    });
    this.log.debug(this.fields(w), 'worker started');
    this.options.onWorkerStart?.(this.handle(w));
  }

  private onMessage(w: WorkerProcess, message: unknown): void {
    w.lastSeen = Date.now();
    if (!isWorkerMessage(message)) return;
    switch (message.t) {
      case 'ready': {
        if (w.state !== 'starting') return;
        w.state = 'ready';
        w.deadline = undefined;
        if (message.info !== undefined) w.context = message.info;
        this.log.info({ ...this.fields(w), context: w.context }, 'worker ready');
        this.options.onWorkerReady?.(this.handle(w));
        const gen = this.generations.get(w.generation);
        if (gen?.pending) this.checkGenerationReady(gen);
        else if (w.generation === this.currentGeneration) this.flushHeld();
        return;
      }
      case 'load':
        w.live = message.live;
        w.received = message.received;
        return;
      case 'context':
        w.context = message.context;
        return;
      case 'port':
        w.port.deliver(message.data);
        return;
      case 'heartbeat':
        return;
    }
  }

  private onExit(w: WorkerProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (w.state === 'exited') return;
    const before = w.state;
    w.state = 'exited';
    this.workersById.delete(w.id);
    w.port.close();
    const now = Date.now();
    const gen = this.generations.get(w.generation);
    const slot = gen?.slots[w.slot];
    if (slot?.worker === w) slot.worker = undefined;
    const planned = before === 'draining' || before === 'stopping' || this.stopping !== undefined;
    const fields = {
      ...this.fields(w),
      code,
      signal,
      uptimeMs: w.uptimeMs(now),
      context: w.context,
      reason: w.killReason,
    };
    let restartInMs: number | undefined;
    if (planned) {
      this.log.info(fields, 'worker exited');
    } else if (gen?.pending) {
      this.log.error(fields, 'worker died before it was ready');
      gen.pending.reject(describeExit(w, code, signal));
    } else if (gen && slot && gen.number === this.currentGeneration) {
      restartInMs = slot.backoff.died(now);
      const message = before === 'starting' ? 'worker died while starting; replacing it' : 'worker died; replacing it';
      this.log.error({ ...fields, restartInMs, quickDeaths: slot.backoff.consecutiveQuickDeaths }, message);
      slot.restartTimer = setTimeout(() => this.spawn(gen, w.slot), restartInMs);
    } else {
      this.log.warn(fields, 'worker of an old generation died');
    }
    if (gen && gen.number !== this.currentGeneration && !gen.pending && gen.slots.every((s) => !s.worker)) {
      this.generations.delete(gen.number);
    }
    this.options.onWorkerExit?.({
      id: w.id,
      slot: w.slot,
      generation: w.generation,
      pid: w.pid,
      code,
      signal,
      uptimeMs: fields.uptimeMs,
      context: w.context,
      planned,
      reason: w.killReason,
      restartInMs,
    });
    if (this.workersById.size === 0) this.allExited?.();
  }

  private checkGenerationReady(gen: Generation): void {
    if (!gen.pending) return;
    if (gen.slots.every((s) => s.worker?.state === 'ready')) {
      const { resolve } = gen.pending;
      gen.pending = undefined;
      resolve();
    }
  }

  private onTick(): void {
    const now = Date.now();
    for (const w of [...this.workersById.values()]) {
      if (w.deadline && now >= w.deadline.at) {
        const reason = w.deadline.reason;
        w.deadline = undefined;
        this.log.warn({ ...this.fields(w), reason }, 'killing worker');
        w.kill('SIGKILL', reason);
        continue;
      }
      const silentMs = now - w.lastSeen;
      if (w.state !== 'starting' && silentMs > this.hangTimeoutMs) {
        const reason = `hung: no heartbeat answer for ${silentMs} ms`;
        this.log.error({ ...this.fields(w), silentMs, context: w.context }, 'worker hung; killing it');
        w.kill('SIGKILL', reason);
        continue;
      }
      w.ping();
    }
  }

  private accept(socket: Socket, listener: ListenerRef): void {
    // Until a worker owns it, a reset must not surface as an unhandled 'error'.
    socket.on('error', () => {});
    if (this.stopping) {
      socket.destroy();
      return;
    }
    if (this.held.size === 0 && this.handOver(socket, listener)) return;
    if (!this.held.hold(socket, listener)) {
      if (!this.holdWarned) this.log.warn({ held: this.held.size }, 'no worker can take connections and too many are waiting: refusing new ones');
      this.holdWarned = true;
    } else {
      this.holdWarned = false;
    }
  }

  /** The ready worker of the current generation with the fewest sockets (ties: the one handed
   *  fewer in total, which spreads a burst). Workers late with their heartbeat come last. */
  private handOver(socket: Socket, listener: ListenerRef): boolean {
    if (socket.destroyed) return true;
    const now = Date.now();
    const lateMs = 3 * this.heartbeatIntervalMs;
    const candidates = [...this.workersById.values()]
      .filter((w) => w.generation === this.currentGeneration && w.state === 'ready' && w.child.connected)
      .sort((a, b) => {
        const late = Number(now - a.lastSeen > lateMs) - Number(now - b.lastSeen > lateMs);
        return late || a.load - b.load || a.handed - b.handed;
      });
    for (const w of candidates) if (w.handSocket(socket, listener)) return true;
    return false;
  }

  private flushHeld(): void {
    for (let held = this.held.take(); held; held = this.held.take()) {
      if (!this.handOver(held.socket, held.listener)) {
        this.held.unshift(held);
        return;
      }
    }
  }

  private async runStop(deadlineMs: number): Promise<void> {
    clearInterval(this.tick);
    for (const gen of this.generations.values()) {
      gen.pending?.reject('the worker pool is stopping');
      for (const slot of gen.slots) clearTimeout(slot.restartTimer);
    }
    this.listenerSet.closeAll();
    this.held.destroyAll();
    for (const w of this.workersById.values()) {
      if (w.state === 'starting') {
        w.state = 'stopping';
        w.kill('SIGKILL', 'stopped before it was ready');
        continue;
      }
      w.state = 'stopping';
      w.send({ t: 'stop', deadlineMs });
    }
    if (this.workersById.size > 0) {
      const exited = new Promise<void>((resolve) => (this.allExited = resolve));
      const backstop = setTimeout(() => {
        for (const w of this.workersById.values()) {
          this.log.warn(this.fields(w), 'worker did not stop in time; killing it');
          w.kill('SIGKILL', 'stop deadline passed');
        }
      }, deadlineMs + this.killGraceMs);
      await exited;
      clearTimeout(backstop);
    }
    this.generations.clear();
    this.log.info('all workers stopped');
  }

  private logOpened(keys: readonly string[]): void {
    if (keys.length === 0) return;
    for (const { bound } of this.listenerSet.list().slice(-keys.length)) this.log.info({ address: formatBound(bound) }, 'listening');
  }

  private fields(w: WorkerProcess): Record<string, unknown> {
    return { workerId: w.id, worker: w.slot, generation: w.generation, workerPid: w.pid };
  }

  private handle(w: WorkerProcess): WorkerHandle {
    return { id: w.id, slot: w.slot, generation: w.generation, pid: w.pid, port: w.port, context: w.context };
  }
}

function validateSpec(spec: GenerationSpec): void {
  if (!Number.isInteger(spec.count) || spec.count < 1) {
    throw new WsgateError('USAGE', `worker count must be a whole number ≥ 1, not ${String(spec.count)}`);
  }
}

function describeExit(w: WorkerProcess, code: number | null, signal: NodeJS.Signals | null): string {
  const how = w.killReason ? `killed (${w.killReason})` : signal ? `killed by ${signal}` : `exited with code ${String(code)}`;
  return `worker ${w.slot} (pid ${String(w.pid)}) ${how} before it was ready`;
}
