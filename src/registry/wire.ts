// The messages between a worker's registry and the supervisor's, over a Port. Plain data: Node's
// IPC (advanced serialization) carries Buffers as bytes.
import type { Outcome, RegistryCommand } from './types.js';

export type WorkerMessage =
  /** Claim an id the worker reserved locally; answered by `claimed`. */
  | { t: 'claim'; rid: number; id: string }
  | { t: 'release'; id: string }
  /** The rest of a command a handler in this worker issued: routed to the owner, or to every
   *  other member for list/broadcast. Answered by `ran`. */
  | { t: 'run'; rid: number; command: RegistryCommand }
  /** The answer to an `exec`. */
  | { t: 'done'; rid: number; outcome: Outcome };

export type SupervisorMessage =
  | { t: 'claimed'; rid: number; ok: boolean }
  | { t: 'ran'; rid: number; outcome: Outcome }
  /** Run this command on the worker's own connections; answer with `done`. */
  | { t: 'exec'; rid: number; command: RegistryCommand };

/** The registry's envelope on a Port, so the pool's own messages never collide with it. */
export const REGISTRY_CHANNEL = 'registry';

export interface Envelope<M> {
  ch: typeof REGISTRY_CHANNEL;
  m: M;
}

export function envelope<M>(m: M): Envelope<M> {
  return { ch: REGISTRY_CHANNEL, m };
}

export function openEnvelope<M>(message: unknown): M | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const e = message as Partial<Envelope<M>>;
  return e.ch === REGISTRY_CHANNEL ? e.m : undefined;
}
