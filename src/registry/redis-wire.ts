// What crosses Redis between nodes, and the public push contract. Keys and channels of cluster C:
//   wsgate:C:node:NODE  string, a live node's instance token (expires unless its heartbeat renews it)
//   wsgate:C:nodes      set of node names (pruned of those whose key expired)
//   wsgate:C:id:ID      string "NODE/MEMBER": who holds connection id ID (expires with its node)
//   wsgate:C:to:NODE    channel: commands for NODE, and replies to commands NODE sent
//   wsgate:C:push       channel: backends' pushes, delivered by every node (the stable contract)
// Messages are JSON; message data is {"text": "…"} or {"binary": "base64"}.
import type { ConnectionFilter, MessageData } from '../plugins/types.js';
import type { Outcome, RegistryCommand } from './types.js';

export class ClusterKeys {
  readonly prefix: string;
  readonly nodes: string;
  readonly push: string;

  constructor(cluster: string) {
    this.prefix = `wsgate:${cluster}:`;
    this.nodes = `${this.prefix}nodes`;
    this.push = `${this.prefix}push`;
  }

  node(name: string): string {
    return `${this.prefix}node:${name}`;
  }

  id(id: string): string {
    return `${this.prefix}id:${id}`;
  }

  to(node: string): string {
    return `${this.prefix}to:${node}`;
  }
}

type WireData = { text: string } | { binary: string };

type WireCommand = Omit<RegistryCommand, 'data'> & { data?: WireData };

export type NodeMessage =
  | { t: 'cmd'; rid: number; from: string; cmd: WireCommand }
  | { t: 'reply'; rid: number; from: string; outcome: Outcome };

function wireData(data: MessageData, isBinary: boolean): WireData {
  if (typeof data === 'string' && !isBinary) return { text: data };
  return { binary: (typeof data === 'string' ? Buffer.from(data) : data).toString('base64') };
}

function messageData(data: WireData): MessageData {
  return 'text' in data ? data.text : Buffer.from(data.binary, 'base64');
}

export function commandMessage(rid: number, from: string, command: RegistryCommand): string {
  const cmd = 'data' in command ? { ...command, data: wireData(command.data, command.isBinary) } : command;
  return JSON.stringify({ t: 'cmd', rid, from, cmd } satisfies NodeMessage);
}

export function replyMessage(rid: number, from: string, outcome: Outcome): string {
  return JSON.stringify({ t: 'reply', rid, from, outcome } satisfies NodeMessage);
}

/** undefined: not one of ours (logged by the caller). */
export function parseNodeMessage(text: string): { t: 'cmd'; rid: number; from: string; command: RegistryCommand } | { t: 'reply'; rid: number; from: string; outcome: Outcome } | undefined {
  let m: NodeMessage;
  try {
    m = JSON.parse(text) as NodeMessage;
  } catch {
    return undefined;
  }
  if (typeof m !== 'object' || m === null || typeof m.rid !== 'number' || typeof m.from !== 'string') return undefined;
  if (m.t === 'reply') return m;
  if (m.t !== 'cmd') return undefined;
  const cmd = m.cmd as WireCommand & { data?: WireData };
  const command = (cmd.data !== undefined ? { ...cmd, data: messageData(cmd.data) } : cmd) as RegistryCommand;
  return { t: 'cmd', rid: m.rid, from: m.from, command };
}

/** A push on wsgate:C:push, e.g. {"op":"send","id":"u42","text":"hi"} or
 *  {"op":"broadcast","location":"/board","group":"g","binary":"AAE="}. Throws with a reason. */
export function parsePush(text: string): RegistryCommand {
  let p: Record<string, unknown>;
  try {
    p = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error('not JSON');
  }
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new Error('not a JSON object');
  const str = (key: string, required: boolean): string | undefined => {
    const v = p[key];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || v === '') throw new Error(`"${key}" must be a non-empty string`);
    return v;
  };
  const payload = (): { data: MessageData; isBinary: boolean } => {
    if (typeof p.text === 'string') return { data: p.text, isBinary: false };
    if (typeof p.binary === 'string') return { data: Buffer.from(p.binary, 'base64'), isBinary: true };
    throw new Error('"text" (a string) or "binary" (base64) is required');
  };
  switch (p.op) {
    case 'send':
      return { op: 'send', id: str('id', true)!, ...payload() };
    case 'broadcast': {
      const filter: ConnectionFilter = {};
      const location = str('location', false);
      const group = str('group', false);
      if (location !== undefined) filter.location = location;
      if (group !== undefined) filter.group = group;
      const except = str('except', false);
      return { op: 'broadcast', filter, ...payload(), ...(except !== undefined && { except }) };
    }
    case 'close': {
      const code = p.code;
      if (code !== undefined && (typeof code !== 'number' || !Number.isInteger(code))) throw new Error('"code" must be an integer');
      const reason = p.reason;
      if (reason !== undefined && typeof reason !== 'string') throw new Error('"reason" must be a string');
      return { op: 'close', id: str('id', true)!, ...(code !== undefined && { code }), ...(reason !== undefined && { reason }) };
    }
    case 'join':
    case 'leave':
      return { op: p.op, id: str('id', true)!, group: str('group', true)! };
    default:
      throw new Error('"op" must be send, broadcast, close, join or leave');
  }
}
