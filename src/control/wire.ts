// ControlCommand → line protocol request, and line protocol answer → ControlResult: the client
// side of the protocol (wsgate ctl, tests). Messages always go length-delimited, so newlines and
// binary data need no escaping; ids, groups and Locations go as percent-encoded words.
import { WsgateError } from '../errors.js';
import type { ConnectionFilter } from '../plugins/types.js';
import { acknowledgement, isAcknowledged, type ControlCommand, type ControlResult } from './commands.js';
import type { ConnectionInfo } from './connection-info.js';
import type { StatusReport } from './probe.js';
import { blockEnd, UNREACHABLE_WORD } from './line-format.js';
import { decodeWord, encodeLocationWord, encodeWord } from './words.js';

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
    case 'status':
      return line(command.kind.toUpperCase());
    case 'list':
      return line(['LIST', command.detail ? 'DETAILS' : 'WEBSOCKETS', ...filterWords(command.filter)].join(' '));
    case 'info':
      return line(`INFO ${encodeWord(command.id)}`);
    case 'send':
      return withPayload(`${verbFor('SEND', command.data)} ${encodeWord(command.id)}`, command.data);
    case 'broadcast':
      return withPayload([verbFor('BROADCAST', command.data), ...filterWords(command.filter)].join(' '), command.data);
    case 'close': {
      const words = ['CLOSE', encodeWord(command.id)];
      if (command.code !== undefined) words.push(String(command.code));
      if (command.code !== undefined && command.reason !== undefined) words.push(command.reason.replace(/[\r\n]/g, ' '));
      return line(words.join(' '));
    }
    case 'join':
    case 'leave':
      return line(`${command.kind.toUpperCase()} ${encodeWord(command.id)} ${encodeWord(command.group)}`);
  }
}

/** How many lines follow the status line of this command's answer: for LIST, INFO and HELP
 *  answered `OK n`, the n data lines and the END line; otherwise none. */
export function linesAfterStatus(command: ControlCommand, status: string): number {
  if (command.kind !== 'list' && command.kind !== 'info' && command.kind !== 'help' && command.kind !== 'status') return 0;
  const m = /^OK (\d+)(?: |$)/.exec(status);
  return m ? Number(m[1]) + 1 : 0;
}

/** The workers named after UNREACHABLE in a status line. */
function unreachableOf(words: readonly string[]): string[] {
  const at = words.indexOf(UNREACHABLE_WORD);
  return at < 0 ? [] : (words[at + 1] ?? '').split(',').filter((w) => w !== '');
}

/** status: the status line without its terminator; after: the lines counted by linesAfterStatus. */
export function decodeAnswer(command: ControlCommand, status: string, after: string[]): ControlResult {
  const err = /^ERR (\S+) ?(.*)$/.exec(status);
  if (err) throw new RemoteError(err[1]!, err[2]!);
  if (!status.startsWith('OK')) throw new WsgateError('IO', `unexpected answer from the control socket: ${status.slice(0, 80)}`);
  const lines = after.slice(0, -1);
  if (after.length > 0 && after[after.length - 1] !== blockEnd) {
    throw new WsgateError('IO', `the control socket's answer did not end with ${blockEnd}: out of step`);
  }
  const words = status.split(' ');
  if (isAcknowledged(command)) return acknowledgement(command);
  switch (command.kind) {
    case 'help':
      return { kind: 'help', lines };
    case 'status':
      return { kind: 'status', report: parseInfo(lines[0] ?? '') as unknown as StatusReport };
    case 'list':
      return { kind: 'list', detail: command.detail, connections: command.detail ? lines.map(parseInfo) : lines.map(briefInfo), unreachable: unreachableOf(words) };
    case 'info':
      return { kind: 'info', connection: parseInfo(lines[0] ?? '') };
    case 'send':
    case 'broadcast':
      return { kind: 'sent', count: Number(words[2] ?? 0), unreachable: unreachableOf(words) };
  }
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
    id: decodeWord(id, 'id'),
    remoteAddress: m?.[1] ?? peer,
    remotePort: Number(m?.[2] ?? 0),
    location: '',
    path: '',
    version: '',
    protocol: '',
    origin: null,
    groups: [],
    connectedAt: '',
    member: '',
  };
}

function verbFor(base: 'SEND' | 'BROADCAST', data: string | Buffer): string {
  return typeof data === 'string' ? `${base}T` : `${base}B`;
}

function filterWords(filter: ConnectionFilter): string[] {
  const words: string[] = [];
  if (filter.location !== undefined) words.push(encodeLocationWord(filter.location));
  if (filter.group !== undefined) words.push(`@${encodeWord(filter.group)}`);
  return words;
}

function line(text: string): Buffer {
  return Buffer.from(`${text}\n`);
}

function withPayload(head: string, data: string | Buffer): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([Buffer.from(`${head} ${payload.length}\n`), payload]);
}
