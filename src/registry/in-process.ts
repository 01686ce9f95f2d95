// The registry of a single process (one worker, no supervisor): every connection is local, so a
// command is answered at once and nothing can be unreachable.
import { LocalRegistry, type LiveConnection } from './local.js';
import type { ConnectionRegistry, Outcome, RegistryCommand } from './types.js';

export class InProcessRegistry<C extends LiveConnection = LiveConnection> implements ConnectionRegistry {
  readonly member = '';
  readonly local = new LocalRegistry<C>();

  claim(requested: string | undefined): Promise<string | undefined> {
    return Promise.resolve(this.local.reserve(requested));
  }

  release(id: string): void {
    this.local.release(id);
  }

  run(command: RegistryCommand): Promise<Outcome> {
    return Promise.resolve(this.local.execute(command));
  }
}
