// The registry of live connections, cluster-wide. One command model and one result shape for
// every implementation, so handlers and the control channel mean the same thing with one process
// (in-process.ts), the workers of one supervisor (ipc-worker.ts + ipc-supervisor.ts) and, later,
// nodes sharing Redis:
//
//   - ids are claimed through the registry, so `?id=X` is unique wherever X lives (409 otherwise);
//   - a command addressed to an id reaches the member (worker, node) that holds it;
//   - list and broadcast reach every member;
//   - per sender, messages to one connection keep their order (every path is one ordered pipe);
//   - a member that does not answer in time is named in `unreachable` instead of being counted
//     as a success. Delivery is at most once.
import type { ConnectionFilter, ConnectionSummary, MessageData } from '../plugins/types.js';

export type { ConnectionSummary };

/** What can be asked of the registry; plain data so it crosses process and machine boundaries. */
export type RegistryCommand =
  | { op: 'list'; filter: ConnectionFilter }
  | { op: 'info'; id: string }
  /** data: a string is sent as text unless isBinary. */
  | { op: 'send'; id: string; data: MessageData; isBinary: boolean }
  | { op: 'broadcast'; filter: ConnectionFilter; data: MessageData; isBinary: boolean; except?: string }
  | { op: 'close'; id: string; code?: number; reason?: string }
  | { op: 'join'; id: string; group: string }
  | { op: 'leave'; id: string; group: string };

export type RegistryOp = RegistryCommand['op'];

/** The one result shape. `count`: connections the command reached (for list and info, how many
 *  were found); `connections`: for list and info; `unreachable`: members that did not answer. */
export interface Outcome {
  count: number;
  connections: ConnectionSummary[];
  unreachable: string[];
}

/** What the control channel (in the supervisor, or in a single process) needs. */
export interface RegistryClient {
  run(command: RegistryCommand): Promise<Outcome>;
}

/** What a process that holds connections needs on top: id claims. */
export interface ConnectionRegistry extends RegistryClient {
  /** This member's name in summaries and `unreachable` ('' with one process). */
  readonly member: string;
  /** Claims the requested id, or a fresh one when none was requested. undefined: the requested id
   *  is live or being claimed somewhere (409). Rejects with a WsgateError (503) when the registry
   *  cannot be asked (supervisor or bus gone). */
  claim(requested: string | undefined): Promise<string | undefined>;
  /** Gives up an id: a handshake that did not complete, or a connection that ended. */
  release(id: string): void;
}

/** Commands addressed to one connection. */
export function targetId(command: RegistryCommand): string | undefined {
  return 'id' in command ? command.id : undefined;
}


/** The nodes of a cluster other than this one (redis.ts): what a node's registry delegates to for
 *  everything outside the node. Within a node nothing changes. */
export interface NodeBus {
  /** This node's name; members become `node/wN`. */
  readonly node: string;
  /** Claims `id` for `member` of this node. false: another node holds it (409). While the bus is
   *  down the claim is granted and made when it is back (uniqueness is then per node only). */
  claim(id: string, member: string): Promise<boolean>;
  release(id: string): void;
  /** The part of a command for the other nodes: by-id to the owner node, list/broadcast to every
   *  live node; nodes that do not answer in time (or the bus itself) are named in `unreachable`. */
  run(command: RegistryCommand): Promise<Outcome>;
  /** Where commands from other nodes and backend pushes run: this node's own connections only. */
  serve(runLocal: (command: RegistryCommand) => Promise<Outcome>): void;
}
