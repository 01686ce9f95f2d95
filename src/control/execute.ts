// The command core: runs one ControlCommand against the registry. Both transports call this,
// so a command behaves the same over the UNIX socket and over HTTP.
import { WsgateError } from '../errors.js';
import type { Outcome, RegistryClient, RegistryCommand } from '../registry/types.js';
import { acknowledgement, type ControlCommand, type ControlResult } from './commands.js';
import { helpLines } from './help.js';
import type { ServiceProbe } from './probe.js';

/** `probe`: what answers STATUS (absent: STATUS is refused). */
export async function executeCommand(command: ControlCommand, registry: RegistryClient, probe?: ServiceProbe): Promise<ControlResult> {
  switch (command.kind) {
    case 'status':
      if (!probe) throw new WsgateError('CONTROL_COMMAND', 'STATUS is not available here', { status: 404 });
      return { kind: 'status', report: await probe.status() };
    case 'ping':
    case 'quit':
      return acknowledgement(command);
    case 'help':
      return { kind: 'help', lines: helpLines };
    case 'list': {
      // Only open connections: every listed id can be sent to. One whose close handshake has
      // started is gone for the control channel, as for SEND and INFO (NOT_FOUND).
      const outcome = await registry.run({ op: 'list', filter: command.filter });
      return { kind: 'list', detail: command.detail, connections: outcome.connections, unreachable: outcome.unreachable };
    }
    case 'info': {
      const outcome = await toOne(registry, { op: 'info', id: command.id });
      return { kind: 'info', connection: outcome.connections[0]! };
    }
    case 'send':
      // The frame type is explicit: a string is text, a Buffer is binary.
      await toOne(registry, { op: 'send', id: command.id, data: command.data, isBinary: typeof command.data !== 'string' });
      return { kind: 'sent', count: 1, unreachable: [] };
    case 'broadcast': {
      const isBinary = typeof command.data !== 'string';
      const outcome = await registry.run({ op: 'broadcast', filter: command.filter, data: command.data, isBinary });
      return { kind: 'sent', count: outcome.count, unreachable: outcome.unreachable };
    }
    case 'close':
      validateClose(command.code, command.reason);
      await toOne(registry, {
        op: 'close',
        id: command.id,
        ...(command.code !== undefined && { code: command.code }),
        ...(command.reason !== undefined && { reason: command.reason }),
      });
      return acknowledgement(command);
    case 'join':
    case 'leave':
      if (command.group === '') throw new WsgateError('CONTROL_COMMAND', 'the group name is empty', { status: 400 });
      await toOne(registry, { op: command.kind, id: command.id, group: command.group });
      return acknowledgement(command);
  }
}

/** A command to one id: it reached the connection, or the answer says why not. */
async function toOne(registry: RegistryClient, command: Extract<RegistryCommand, { id: string }>): Promise<Outcome> {
  const outcome = await registry.run(command);
  if (outcome.count > 0) return outcome;
  if (outcome.unreachable.length > 0) {
    throw new WsgateError('CONTROL_UNREACHABLE', `'${command.id}' lives on ${outcome.unreachable.join(', ')}, which did not answer in time`, { status: 504 });
  }
  throw new WsgateError('CONTROL_NOT_FOUND', `no open connection with id '${command.id}'`, { status: 404 });
}

/** Close codes an endpoint may send (RFC 6455 §7.4): 1000–1003, 1007–1014, 3000–4999.
 *  The reason must fit the 125-byte control frame with its 2-byte code. */
export function validateClose(code: number | undefined, reason: string | undefined): void {
  if (code === undefined) {
    if (reason !== undefined && reason !== '') throw new WsgateError('CONTROL_COMMAND', 'a close reason needs a close code', { status: 400 });
    return;
  }
  const allowed = Number.isInteger(code) && ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999));
  if (!allowed) throw new WsgateError('CONTROL_COMMAND', `close code ${code} cannot be sent (use 1000-1003, 1007-1014 or 3000-4999)`, { status: 400 });
  if (reason !== undefined && Buffer.byteLength(reason) > 123) {
    throw new WsgateError('CONTROL_COMMAND', 'the close reason is longer than 123 bytes', { status: 400 });
  }
}
