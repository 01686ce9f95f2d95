// The supervisor's registry: which worker holds which id, and the fan-out of commands to the
// workers (from the control channel, which runs here, and from handlers in one worker that reach
// connections in another). It holds no connections itself.
import { emptyOutcome, mergeOutcomes, unreachableOutcome } from './outcome.js';
import { PendingReplies } from './pending.js';
import type { Port } from './port.js';
import { targetId, type Outcome, type RegistryClient, type RegistryCommand } from './types.js';
import { envelope, openEnvelope, type SupervisorMessage, type WorkerMessage } from './wire.js';

export interface IpcSupervisorOptions {
  /** How long a worker has to answer one command before it is reported unreachable. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 2000;

interface Member {
  name: string;
  port: Port;
  replies: PendingReplies<Outcome>;
  /** Ids this worker claimed (live connections and handshakes in progress). */
  ids: Set<string>;
}

export class IpcSupervisorRegistry implements RegistryClient {
  private readonly members = new Map<string, Member>();
  private readonly owners = new Map<string, Member>();
  private readonly timeoutMs: number;

  constructor(options: IpcSupervisorOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** A worker joins; it leaves when its port closes, and its ids are released with it. */
  attach(name: string, port: Port): void {
    const member: Member = { name, port, replies: new PendingReplies(), ids: new Set() };
    this.members.set(name, member);
    port.onMessage((message) => this.receive(member, openEnvelope<WorkerMessage>(message)));
    port.onClose(() => this.detach(member));
  }

  /** Ids held per worker (for status pages and tests). */
  idsOf(name: string): ReadonlySet<string> {
    return this.members.get(name)?.ids ?? new Set();
  }

  run(command: RegistryCommand): Promise<Outcome> {
    return this.fanOut(command, undefined);
  }

  private detach(member: Member): void {
    if (this.members.get(member.name) !== member) return;
    this.members.delete(member.name);
    for (const id of member.ids) this.owners.delete(id);
    member.replies.abandonAll();
  }

  private receive(from: Member, message: WorkerMessage | undefined): void {
    switch (message?.t) {
      case 'claim': {
        const ok = !this.owners.has(message.id);
        if (ok) {
          this.owners.set(message.id, from);
          from.ids.add(message.id);
        }
        this.post(from, { t: 'claimed', rid: message.rid, ok });
        return;
      }
      case 'release':
        if (this.owners.get(message.id) === from) {
          this.owners.delete(message.id);
          from.ids.delete(message.id);
        }
        return;
      case 'run': {
        const rid = message.rid;
        void this.fanOut(message.command, from).then((outcome) => this.post(from, { t: 'ran', rid, outcome }));
        return;
      }
      case 'done':
        from.replies.settle(message.rid, message.outcome);
        return;
    }
  }

  /** A command to one id goes to its owner; list and broadcast to every worker but `skip` (which
   *  answered its own part already). */
  private async fanOut(command: RegistryCommand, skip: Member | undefined): Promise<Outcome> {
    const id = targetId(command);
    if (id !== undefined) {
      const owner = this.owners.get(id);
      return owner && owner !== skip ? this.exec(owner, command) : emptyOutcome();
    }
    const targets = [...this.members.values()].filter((m) => m !== skip);
    if (targets.length === 0) return emptyOutcome();
    return mergeOutcomes(await Promise.all(targets.map((m) => this.exec(m, command))));
  }

  private exec(member: Member, command: RegistryCommand): Promise<Outcome> {
    const { rid, reply } = member.replies.open(this.timeoutMs, unreachableOutcome(member.name));
    if (!this.post(member, { t: 'exec', rid, command })) member.replies.settle(rid, unreachableOutcome(member.name));
    return reply;
  }

  private post(member: Member, message: SupervisorMessage): boolean {
    return member.port.post(envelope(message));
  }
}
