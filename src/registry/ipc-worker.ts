// A worker's registry: its own connections in a LocalRegistry, everything else through the
// supervisor (ipc-supervisor.ts) over one Port. What is local is done at once, so a handler that
// answers its own connections never waits on another process.
import { WsgateError } from '../errors.js';
import { LocalRegistry, type LiveConnection } from './local.js';
import { asMessageData, mergeOutcomes, unreachableOutcome } from './outcome.js';
import { PendingReplies } from './pending.js';
import type { Port } from './port.js';
import { targetId, type ConnectionRegistry, type Outcome, type RegistryCommand } from './types.js';
import { envelope, openEnvelope, type SupervisorMessage, type WorkerMessage } from './wire.js';

export interface IpcWorkerOptions {
  /** This worker's name in summaries ('w1'). */
  member: string;
  /** How long to wait for the supervisor (its own deadline for other workers is shorter). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 3000;
/** Name used in `unreachable` when the supervisor itself does not answer. */
export const SUPERVISOR_MEMBER = 'supervisor';
/** Generated ids are 50 random bits: a second collision in a row means something is wrong. */
const GENERATE_ATTEMPTS = 3;

type ClaimAnswer = boolean | 'no answer';

export class IpcWorkerRegistry<C extends LiveConnection = LiveConnection> implements ConnectionRegistry {
  readonly member: string;
  readonly local: LocalRegistry<C>;
  private readonly timeoutMs: number;
  private readonly claims = new PendingReplies<ClaimAnswer>();
  private readonly runs = new PendingReplies<Outcome>();

  constructor(
    private readonly port: Port,
    options: IpcWorkerOptions,
  ) {
    this.member = options.member;
    this.local = new LocalRegistry<C>(options.member);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    port.onMessage((message) => this.receive(openEnvelope<SupervisorMessage>(message)));
    port.onClose(() => {
      this.claims.abandonAll();
      this.runs.abandonAll();
    });
  }

  async claim(requested: string | undefined): Promise<string | undefined> {
    for (let attempt = 0; attempt < (requested === undefined ? GENERATE_ATTEMPTS : 1); attempt++) {
      const id = this.local.reserve(requested);
      if (id === undefined) return undefined;
      const { rid, reply } = this.claims.open(this.timeoutMs, 'no answer');
      if (!this.post({ t: 'claim', rid, id })) this.claims.settle(rid, 'no answer');
      const answer = await reply;
      if (answer === true) return id;
      this.local.release(id);
      if (answer === 'no answer') {
        throw new WsgateError('HANDSHAKE_UNAVAILABLE', 'the supervisor did not answer an id claim', { status: 503 });
      }
    }
    return undefined;
  }

  /** The supervisor hears of it after everything this worker posted before: another worker's
   *  claim of the same id may still be refused (409) for that short while. */
  release(id: string): void {
    this.local.release(id);
    this.post({ t: 'release', id });
  }

  /** The local part now; the rest through the supervisor. */
  async run(command: RegistryCommand): Promise<Outcome> {
    const id = targetId(command);
    if (id !== undefined && this.local.get(id) !== undefined) return this.local.execute(command);
    const localPart = id === undefined ? this.local.execute(command) : undefined;
    const { rid, reply } = this.runs.open(this.timeoutMs, unreachableOutcome(SUPERVISOR_MEMBER));
    if (!this.post({ t: 'run', rid, command })) this.runs.settle(rid, unreachableOutcome(SUPERVISOR_MEMBER));
    const remote = await reply;
    return localPart ? mergeOutcomes([localPart, remote]) : remote;
  }

  private receive(message: SupervisorMessage | undefined): void {
    switch (message?.t) {
      case 'claimed':
        this.claims.settle(message.rid, message.ok);
        return;
      case 'ran':
        this.runs.settle(message.rid, message.outcome);
        return;
      case 'exec':
        this.post({ t: 'done', rid: message.rid, outcome: this.local.execute(withMessageData(message.command)) });
        return;
    }
  }

  /** False when the supervisor is gone. */
  private post(message: WorkerMessage): boolean {
    return this.port.post(envelope(message));
  }
}

/** Restores Buffers that crossed the channel as Uint8Arrays. */
export function withMessageData(command: RegistryCommand): RegistryCommand {
  return command.op === 'send' || command.op === 'broadcast' ? { ...command, data: asMessageData(command.data) } : command;
}
