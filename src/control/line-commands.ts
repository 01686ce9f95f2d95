// Line protocol syntax: one command line (plus its payload for the length-delimited forms)
// → ControlCommand. The grammar is listed in help.ts.
import { WsgateError } from '../errors.js';
import type { ConnectionFilter } from '../plugins/types.js';
import type { ControlCommand } from './commands.js';
import { pathLocations, type LocationTest } from './locations.js';
import { decodeWord, tryDecodeWord } from './words.js';

/** Verbs whose line ends with LENGTH and is followed by that many raw bytes. */
const payloadVerbs = new Set(['SENDB', 'SENDT', 'BROADCASTB', 'BROADCASTT']);
const lengthPattern = /^\d{1,15}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** For LineParser: the announced payload length of a line, if it announces one. */
export function payloadLengthOf(line: string): number | undefined | WsgateError {
  const words = new Words(line);
  const verb = words.next()?.toUpperCase();
  if (verb === undefined || !payloadVerbs.has(verb)) return undefined;
  const last = line.trimEnd().split(/[ \t]+/).pop() ?? '';
  if (!lengthPattern.test(last)) return usage(`${verb} needs the payload's byte LENGTH as its last argument; closing (the stream is out of sync)`);
  return Number(last);
}

/** isLocation decides which words are Locations (see locations.ts). */
export function parseLineCommand(line: string, isLocation: LocationTest = pathLocations): ControlCommand {
  const words = new Words(line);
  const verb = (words.next() ?? '').toUpperCase();
  switch (verb) {
    case 'PING':
    case 'QUIT':
    case 'HELP':
    case 'STATUS':
      words.end(verb);
      return { kind: verb.toLowerCase() as 'ping' | 'quit' | 'help' | 'status' };
    case 'LIST':
      return parseList(words, isLocation);
    case 'INFO': {
      const id = words.id('INFO ID');
      words.end('INFO ID');
      return { kind: 'info', id };
    }
    case 'SEND': {
      if (words.next()?.toUpperCase() !== 'MESSAGE') throw usage('usage: SEND MESSAGE ID TEXT');
      const id = words.id('SEND MESSAGE ID TEXT');
      const text = words.rest();
      if (text === undefined) throw usage('usage: SEND MESSAGE ID TEXT');
      return { kind: 'send', id, data: text };
    }
    case 'BROADCAST': {
      // The first word is a Location only when it names one; otherwise it is part of the text.
      const first = words.peek();
      const decoded = first === undefined ? undefined : tryDecodeWord(first);
      const location = decoded !== undefined && isLocation(decoded) ? decoded : undefined;
      if (location !== undefined) words.next();
      const text = words.rest();
      if (text === undefined) throw usage('usage: BROADCAST [LOCATION] TEXT');
      return { kind: 'broadcast', filter: location === undefined ? {} : { location }, data: text };
    }
    case 'CLOSE':
      return parseClose(words);
    case 'JOIN':
    case 'LEAVE': {
      const id = words.id(`${verb} ID GROUP`);
      const group = words.next();
      if (group === undefined) throw usage(`usage: ${verb} ID GROUP`);
      words.end(`${verb} ID GROUP`);
      return { kind: verb === 'JOIN' ? 'join' : 'leave', id, group: decodeWord(group, 'group') };
    }
    case '':
      throw usage('empty command');
    default:
      throw usage(`unknown command '${verb.slice(0, 40)}' (try HELP)`);
  }
}

export function parsePayloadCommand(line: string, payload: Buffer, isLocation: LocationTest = pathLocations): ControlCommand {
  const words = new Words(line);
  const verb = (words.next() ?? '').toUpperCase();
  const args: string[] = [];
  for (let w = words.next(); w !== undefined; w = words.next()) args.push(w);
  args.pop(); // LENGTH, already used by the parser
  const data = verb.endsWith('T') ? decodeText(payload) : payload;
  if (verb === 'SENDB' || verb === 'SENDT') {
    if (args.length !== 1) throw usage(`usage: ${verb} ID LENGTH`);
    return { kind: 'send', id: decodeWord(args[0]!, 'id'), data };
  }
  return { kind: 'broadcast', filter: parseFilter(args, `${verb} [LOCATION] [@GROUP] LENGTH`, isLocation), data };
}

function parseList(words: Words, isLocation: LocationTest): ControlCommand {
  let detail = false;
  const mode = words.peek()?.toUpperCase();
  if (mode === 'WEBSOCKETS' || mode === 'DETAILS') {
    words.next();
    detail = mode === 'DETAILS';
  }
  const args: string[] = [];
  for (let w = words.next(); w !== undefined; w = words.next()) args.push(w);
  return { kind: 'list', detail, filter: parseFilter(args, 'LIST [WEBSOCKETS|DETAILS] [LOCATION] [@GROUP]', isLocation) };
}

function parseClose(words: Words): ControlCommand {
  const id = words.id('CLOSE ID [CODE [REASON]]');
  const codeWord = words.next();
  if (codeWord === undefined) return { kind: 'close', id, code: undefined, reason: undefined };
  if (!/^\d{1,5}$/.test(codeWord)) throw usage(`close code '${codeWord.slice(0, 20)}' is not a number`);
  return { kind: 'close', id, code: Number(codeWord), reason: words.rest() };
}

/** `@GROUP` is a group (the '@' as written, so a Location starting with '@' is sent as %40…);
 *  any other word must name a Location. Both are percent-decoded. */
function parseFilter(args: string[], form: string, isLocation: LocationTest): ConnectionFilter {
  const filter: ConnectionFilter = {};
  for (const arg of args) {
    if (arg.startsWith('@') && arg.length > 1 && filter.group === undefined) {
      filter.group = decodeWord(arg.slice(1), 'group');
      continue;
    }
    if (arg.startsWith('@') || filter.location !== undefined) throw usage(`usage: ${form}`);
    const location = decodeWord(arg, 'Location');
    if (!isLocation(location)) {
      throw usage(`'${arg.slice(0, 60)}' is not a Location: a Location starts with / or is exactly the name of a configured one (a <LocationMatch> regex); usage: ${form}`);
    }
    filter.location = location;
  }
  return filter;
}

function decodeText(payload: Buffer): string {
  try {
    return utf8.decode(payload);
  } catch {
    throw new WsgateError('INVALID_UTF8', 'the text payload is not valid UTF-8', { status: 400 });
  }
}

function usage(message: string): WsgateError {
  return new WsgateError('CONTROL_COMMAND', message, { status: 400 });
}

/** A cursor over the words of a line; `rest()` is everything after one separator. */
class Words {
  private pos = 0;
  constructor(private readonly line: string) {}

  next(): string | undefined {
    while (this.pos < this.line.length && isBlank(this.line[this.pos]!)) this.pos++;
    if (this.pos >= this.line.length) return undefined;
    const start = this.pos;
    while (this.pos < this.line.length && !isBlank(this.line[this.pos]!)) this.pos++;
    return this.line.slice(start, this.pos);
  }

  peek(): string | undefined {
    const saved = this.pos;
    const word = this.next();
    this.pos = saved;
    return word;
  }

  id(form: string): string {
    const word = this.next();
    if (word === undefined) throw usage(`usage: ${form}`);
    return decodeWord(word, 'id');
  }

  rest(): string | undefined {
    if (this.pos >= this.line.length) return undefined;
    return this.line.slice(this.pos + 1);
  }

  end(form: string): void {
    if (this.next() !== undefined) throw usage(`usage: ${form}`);
  }
}

function isBlank(c: string): boolean {
  return c === ' ' || c === '\t';
}
