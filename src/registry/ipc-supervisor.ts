// The supervisor's registry: which worker holds which id, and the fan-out of commands to the
// workers (from the control channel, which runs here, and from handlers in one worker that reach
// connections in another). It holds no connections itself. With a cluster (`nodes`), claims are
// also made on the node bus, and the part of a command no worker of this node answers goes there.
import { emptyOutcome, mergeOutcomes, unreachableOutcome } from './outcome.js';
import { PendingReplies } from './pending.js';
import type { Port } from './port.js';
import { targetId, type NodeBus, type Outcome, type RegistryClient, type RegistryCommand } from './types.js';
import { envelope, openEnvelope, type SupervisorMessage, type WorkerMessage } from './wire.js';

export interface IpcSupervisorOptions {
  /** How long a worker has to answer one command before it is reported unreachable. */
  timeoutMs?: number;
  /** The other nodes of the cluster (WebSocketClusterRedis). */
  nodes?: NodeBus;
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
  private readonly nodes: NodeBus | undefined;

  constructor(options: IpcSupervisorOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.nodes = options.nodes;
    // Commands from other nodes: this node's workers only, never back onto the bus.
    this.nodes?.serve((command) => this.fanOut(command, undefined, false));
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
    return this.fanOut(command, undefined, true);
  }

  private detach(member: Member): void {
    if (this.members.get(member.name) !== member) return;
    this.members.delete(member.name);
    for (const id of member.ids) {
      this.owners.delete(id);
      this.nodes?.release(id);
    }
    member.replies.abandonAll();
  }

  private receive(from: Member, message: WorkerMessage | undefined): void {
    switch (message?.t) {
      case 'claim':
        void this.claim(from, message.id).then((ok) => this.post(from, { t: 'claimed', rid: message.rid, ok }));
        return;
      case 'release':
        if (this.owners.get(message.id) === from) {
          this.owners.delete(message.id);
          from.ids.delete(message.id);
          this.nodes?.release(message.id);
        }
        return;
      case 'run': {
        const rid = message.rid;
        void this.fanOut(message.command, from, true).then((outcome) => this.post(from, { t: 'ran', rid, outcome }));
        return;
      }
      case 'done':
        from.replies.settle(message.rid, message.outcome);
        return;
    }
  }

  /** Held here first (so two workers cannot race for it), then on the node bus. */
  private async claim(from: Member, id: string): Promise<boolean> {
    if (this.owners.has(id)) return false;
    this.owners.set(id, from);
    from.ids.add(id);
    if (!this.nodes) return true;
    const ok = await this.nodes.claim(id, from.name);
    const gone = this.members.get(from.name) !== from;
    if (!ok || gone) {
      if (this.owners.get(id) === from) this.owners.delete(id);
      from.ids.delete(id);
      if (ok) this.nodes.release(id);
      return false;
    }
    return true;
  }

  /** A command to one id goes to its owner; list and broadcast to every worker but `skip` (which
   *  answered its own part already). `viaNodes`: the other nodes too (by-id: when no worker here
   *  holds the id). Every message is posted before the first await, so order per sender holds. */
  private async fanOut(command: RegistryCommand, skip: Member | undefined, viaNodes: boolean): Promise<Outcome> {
    const nodes = viaNodes ? this.nodes : undefined;
    const id = targetId(command);
    if (id !== undefined) {
      const owner = this.owners.get(id);
      if (owner) return owner !== skip ? this.exec(owner, command) : emptyOutcome();
      return nodes ? nodes.run(command) : emptyOutcome();
    }
    const parts = [...this.members.values()].filter((m) => m !== skip).map((m) => this.exec(m, command));
    if (nodes) parts.push(nodes.run(command));
    if (parts.length === 0) return emptyOutcome();
    return mergeOutcomes(await Promise.all(parts));
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
