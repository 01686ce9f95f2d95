// The registry of a single process (one worker, no supervisor): every connection of the node is
// local, so a command is answered at once; with a cluster (`nodes`), the part for other nodes
// goes over the node bus and nodes that do not answer are named.
import { LocalRegistry, type LiveConnection } from './local.js';
import { mergeOutcomes } from './outcome.js';
import { targetId, type ConnectionRegistry, type NodeBus, type Outcome, type RegistryCommand } from './types.js';

export interface InProcessOptions {
  /** The other nodes of the cluster (WebSocketClusterRedis). */
  nodes?: NodeBus;
}

/** Generated ids are 50 random bits: a second collision in a row means something is wrong. */
const GENERATE_ATTEMPTS = 3;

export class InProcessRegistry<C extends LiveConnection = LiveConnection> implements ConnectionRegistry {
  readonly member: string;
  readonly local: LocalRegistry<C>;
  private readonly nodes: NodeBus | undefined;

  constructor(options: InProcessOptions = {}) {
    this.nodes = options.nodes;
    this.member = this.nodes?.node ?? '';
    this.local = new LocalRegistry<C>(this.member);
    this.nodes?.serve((command) => Promise.resolve(this.local.execute(command)));
  }

  async claim(requested: string | undefined): Promise<string | undefined> {
    for (let attempt = 0; attempt < (requested === undefined ? GENERATE_ATTEMPTS : 1); attempt++) {
      const id = this.local.reserve(requested);
      if (id === undefined || !this.nodes) return id;
      if (await this.nodes.claim(id, this.member)) return id;
      this.local.release(id);
    }
    return undefined;
  }

  release(id: string): void {
    this.local.release(id);
    this.nodes?.release(id);
  }

  run(command: RegistryCommand): Promise<Outcome> {
    const nodes = this.nodes;
    if (!nodes) return Promise.resolve(this.local.execute(command));
    const id = targetId(command);
    if (id !== undefined) return this.local.get(id) !== undefined ? Promise.resolve(this.local.execute(command)) : nodes.run(command);
    // The local part first, so calls in a row keep their order here as on the bus.
    const localPart = this.local.execute(command);
    return nodes.run(command).then((remote) => mergeOutcomes([localPart, remote]));
  }
}
