// The command core: runs one ControlCommand against the registry. Both transports call this,
// so a command behaves the same over the UNIX socket and over HTTP.
import { WsgateError } from '../errors.js';
import type { Connection, Gateway } from '../plugins/types.js';
import { acknowledgement, type ControlCommand, type ControlResult } from './commands.js';
import { describeConnection } from './connection-info.js';
import { helpLines } from './help.js';

export function executeCommand(command: ControlCommand, gateway: Gateway): ControlResult {
  switch (command.kind) {
    case 'ping':
    case 'quit':
      return acknowledgement(command);
    case 'help':
      return { kind: 'help', lines: helpLines };
    case 'list': {
      // Only open connections: every listed id can be sent to. One whose close handshake has
      // started is gone for the control channel, as for SEND and INFO (NOT_FOUND).
      const open = gateway.connections(command.filter).filter((c) => c.isOpen);
      return { kind: 'list', detail: command.detail, connections: open.map(describeConnection) };
    }
    case 'info':
      return { kind: 'info', connection: describeConnection(requireConnection(gateway, command.id)) };
    case 'send': {
      requireConnection(gateway, command.id);
      // The frame type is explicit: a string is text, a Buffer is binary.
      const sent = gateway.send(command.id, command.data, typeof command.data !== 'string');
      if (!sent) throw notFound(command.id);
      return { kind: 'sent', count: 1 };
    }
    case 'broadcast': {
      const isBinary = typeof command.data !== 'string';
      return { kind: 'sent', count: gateway.broadcast(command.data, { ...command.filter, isBinary }) };
    }
    case 'close':
      validateClose(command.code, command.reason);
      requireConnection(gateway, command.id);
      if (!gateway.close(command.id, command.code, command.reason)) throw notFound(command.id);
      return acknowledgement(command);
    case 'join':
    case 'leave': {
      if (command.group === '') throw new WsgateError('CONTROL_COMMAND', 'the group name is empty', { status: 400 });
      requireConnection(gateway, command.id);
      const done = command.kind === 'join' ? gateway.join(command.id, command.group) : gateway.leave(command.id, command.group);
      if (!done) throw notFound(command.id);
      return acknowledgement(command);
    }
  }
}

function requireConnection(gateway: Gateway, id: string): Connection {
  const conn = gateway.get(id);
  if (!conn || !conn.isOpen) throw notFound(id);
  return conn;
}

function notFound(id: string): WsgateError {
  return new WsgateError('CONTROL_NOT_FOUND', `no open connection with id '${id}'`, { status: 404 });
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
