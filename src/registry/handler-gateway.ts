// The `Gateway` handlers receive: the registry's commands as methods, with the local connections
// at hand for handlers that only need their own process.
import type { BroadcastOptions, Connection, ConnectionFilter, Delivery, Gateway, Listing, MessageData } from '../plugins/types.js';
import type { HostRegistry, LiveConnection } from './local.js';
import type { Outcome, RegistryCommand } from './types.js';

function delivery(outcome: Outcome): Delivery {
  return { count: outcome.count, unreachable: outcome.unreachable };
}

export class HandlerGateway<C extends LiveConnection = LiveConnection> implements Gateway {
  constructor(private readonly registry: HostRegistry<C>) {}

  local(filter?: ConnectionFilter): Connection[] {
    return [...this.registry.local.select(filter)];
  }

  get(id: string): Connection | undefined {
    const conn = this.registry.local.get(id);
    return conn?.isOpen ? conn : undefined;
  }

  async list(filter: ConnectionFilter = {}): Promise<Listing> {
    const outcome = await this.registry.run({ op: 'list', filter });
    return { connections: outcome.connections, unreachable: outcome.unreachable };
  }

  send(id: string, data: MessageData, isBinary = typeof data !== 'string'): Promise<Delivery> {
    return this.deliver({ op: 'send', id, data, isBinary });
  }

  broadcast(data: MessageData, options: BroadcastOptions = {}): Promise<Delivery> {
    const { isBinary = typeof data !== 'string', except, ...filter } = options;
    return this.deliver({ op: 'broadcast', filter, data, isBinary, ...(except !== undefined && { except }) });
  }

  close(id: string, code?: number, reason?: string): Promise<Delivery> {
    return this.deliver({ op: 'close', id, ...(code !== undefined && { code }), ...(reason !== undefined && { reason }) });
  }

  join(id: string, group: string): Promise<Delivery> {
    return this.deliver({ op: 'join', id, group });
  }

  leave(id: string, group: string): Promise<Delivery> {
    return this.deliver({ op: 'leave', id, group });
  }

  private async deliver(command: RegistryCommand): Promise<Delivery> {
    return delivery(await this.registry.run(command));
  }
}
