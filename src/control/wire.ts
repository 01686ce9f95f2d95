// ControlCommand → line protocol request, and line protocol answer → ControlResult: the client
// side of the protocol (wsgate ctl, tests). Messages always go length-delimited, so newlines and
// binary data need no escaping.
import { WsgateError } from '../errors.js';
import type { ConnectionFilter } from '../plugins/types.js';
import { acknowledgement, isAcknowledged, type ControlCommand, type ControlResult } from './commands.js';
import type { ConnectionInfo } from './connection-info.js';
import { decodeId, encodeId } from './line-commands.js';

/** An `ERR CODE message` answer. */
export class RemoteError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'RemoteError';
  }
}

export function encodeRequest(command: ControlCommand): Buffer {
  switch (command.kind) {
    case 'ping':
    case 'quit':
    case 'help':
      return line(command.kind.toUpperCase());
    case 'list':
      return line(['LIST', command.detail ? 'DETAILS' : 'WEBSOCKETS', ...filterWords(command.filter)].join(' '));
    case 'info':
      return line(`INFO ${encodeId(command.id)}`);
    case 'send':
      return withPayload(`${verbFor('SEND', command.data)} ${encodeId(command.id)}`, command.data);
    case 'broadcast':
      return withPayload([verbFor('BROADCAST', command.data), ...filterWords(command.filter)].join(' '), command.data);
    case 'close': {
      const words = ['CLOSE', encodeId(command.id)];
      if (command.code !== undefined) words.push(String(command.code));
      if (command.code !== undefined && command.reason !== undefined) words.push(command.reason.replace(/[\r\n]/g, ' '));
      return line(words.join(' '));
    }
    case 'join':
    case 'leave':
      return line(`${command.kind.toUpperCase()} ${encodeId(command.id)} ${command.group}`);
  }
}

/** How many data lines follow a status line `OK n` for this command (undefined: none). */
export function expectsBlock(command: ControlCommand): boolean {
  return command.kind === 'list' || command.kind === 'info' || command.kind === 'help';
}

/** status: the `OK …` line without its terminator; lines: the data lines that followed it. */
export function decodeAnswer(command: ControlCommand, status: string, lines: string[]): ControlResult {
  const err = /^ERR (\S+) ?(.*)$/.exec(status);
  if (err) throw new RemoteError(err[1]!, err[2]!);
  if (!status.startsWith('OK')) throw new WsgateError('IO', `unexpected answer from the control socket: ${status.slice(0, 80)}`);
  const words = status.split(' ');
  if (isAcknowledged(command)) return acknowledgement(command);
  switch (command.kind) {
    case 'help':
      return { kind: 'help', lines };
    case 'list':
      return { kind: 'list', detail: command.detail, connections: command.detail ? lines.map(parseInfo) : lines.map(briefInfo) };
    case 'info':
      return { kind: 'info', connection: parseInfo(lines[0] ?? '') };
    case 'send':
    case 'broadcast':
      return { kind: 'sent', count: Number(words[2] ?? 0) };
  }
}

/** The number of data lines announced by `OK n`. */
export function blockLength(status: string): number {
  const m = /^OK (\d+)$/.exec(status);
  return m ? Number(m[1]) : 0;
}

function parseInfo(text: string): ConnectionInfo {
  try {
    return JSON.parse(text) as ConnectionInfo;
  } catch {
    throw new WsgateError('IO', `unexpected line from the control socket: ${text.slice(0, 80)}`);
  }
}

/** `ID HOST:PORT` → the fields it carries. */
function briefInfo(text: string): ConnectionInfo {
  const [id = '', peer = ''] = text.split(' ');
  const m = /^\[?(.*?)\]?:(\d+)$/.exec(peer);
  return {
    id: decodeId(id),
    remoteAddress: m?.[1] ?? peer,
    remotePort: Number(m?.[2] ?? 0),
    location: '',
    path: '',
    version: '',
    protocol: '',
    origin: null,
    groups: [],
    connectedAt: '',
  };
}

function verbFor(base: 'SEND' | 'BROADCAST', data: string | Buffer): string {
  return typeof data === 'string' ? `${base}T` : `${base}B`;
}

function filterWords(filter: ConnectionFilter): string[] {
  const words: string[] = [];
  if (filter.location !== undefined) words.push(filter.location);
  if (filter.group !== undefined) words.push(`@${filter.group}`);
  return words;
}

function line(text: string): Buffer {
  return Buffer.from(`${text}\n`);
}

function withPayload(head: string, data: string | Buffer): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([Buffer.from(`${head} ${payload.length}\n`), payload]);
}
