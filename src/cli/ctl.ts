// `wsgate ctl`: talk to a running gateway's control channel (UNIX socket or HTTP API); which one
// is found as control-channel.ts says (no config code is loaded unless a config names it).
import { isWsgateError } from '../errors.js';
import type { ControlCommand, ControlResult } from '../control/commands.js';
import { RemoteError, type ControlClient } from '../control/client.js';
import { formatPeer } from '../control/connection-info.js';
import type { ControlTarget } from '../control/target.js';
import { encodeWord } from '../control/words.js';
import { ExitCode, type CliIO } from './io.js';
import { UsageError, parseCommandArgs } from './args.js';
import { channelOptions, connectTarget, findTarget } from './control-channel.js';

const help = `usage: wsgate ctl [--socket PATH | --url URL | -f FILE [-D NAME]...] [--token T] COMMAND
  list [--location LOC] [--group G] [--json]    ID HOST:PORT per connection (--json: details)
  send [--binary] ID MESSAGE                    push MESSAGE to one connection
  broadcast [--location LOC] [--group G] [--binary] MESSAGE
                                                push MESSAGE to every connection that matches
  close ID [CODE [REASON]]                      close one connection
  join ID GROUP | leave ID GROUP                add a connection to / remove it from a group
A MESSAGE of - is read from standard input, byte for byte (printf, not echo, for no newline).
--socket also from WSGATE_CONTROL_SOCKET, --url from WSGATE_CONTROL_URL, --token from
WSGATE_CONTROL_TOKEN. -f FILE (default: conf/wsgate.conf in the current directory, when neither
--socket nor --url is given) takes the socket, else the HTTP address and token, from a config.
--binary sends MESSAGE as a binary frame (text otherwise). LOC is a Location as written in the
config: a path (/chat) or a <LocationMatch> regex ('^/rooms/[0-9]+$'). IDs, groups and Locations
may contain any character; ctl encodes them for the wire.
Exit 0 on OK; 1 on a usage error or when no connection matched (an unknown ID, a broadcast
that reached nobody); 2 when the gateway answers ERR or cannot be reached.
`;

export async function ctl(args: string[], io: CliIO): Promise<number> {
  let target: ControlTarget;
  let command: ControlCommand;
  let json: boolean;
  try {
    const parsed = parseCommandArgs({
      args,
      allowPositionals: true,
      options: {
        ...channelOptions,
        location: { type: 'string' },
        group: { type: 'string' },
        json: { type: 'boolean' },
        binary: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const v = parsed.values;
    if (v.help) {
      io.stdout.write(help);
      return ExitCode.Ok;
    }
    if ([v.socket, v.url, v.file].filter((x) => x !== undefined).length > 1) throw new UsageError('give one of --socket, --url and -f');
    command = await commandFrom(parsed.positionals, { location: v.location, group: v.group, binary: v.binary === true }, io);
    const found = await findTarget(v, io, 'ctl');
    if (typeof found === 'number') return found;
    target = found;
    json = v.json === true;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`wsgate ctl: ${err.message}\n${help}`);
    return ExitCode.ConfigOrUsage;
  }
  return run(target, command, json, io);
}

async function run(target: ControlTarget, command: ControlCommand, json: boolean, io: CliIO): Promise<number> {
  let client: ControlClient | undefined;
  try {
    client = await connectTarget(target);
    const result = await client.execute(command);
    io.stdout.write(render(result, json));
    if (command.kind === 'broadcast' && result.kind === 'sent' && result.count === 0) {
      io.stderr.write(`wsgate ctl: no connection matched ${describeFilter(command.filter)}\n${listHint}`);
      return ExitCode.ConfigOrUsage;
    }
    return ExitCode.Ok;
  } catch (err) {
    if (err instanceof RemoteError && err.code === 'CONTROL_NOT_FOUND') {
      // Like grep finding nothing: the request was fine, its target is not there.
      io.stderr.write(`wsgate ctl: no connection matched: ${err.message}\n${listHint}`);
      return ExitCode.ConfigOrUsage;
    }
    if (err instanceof RemoteError) io.stderr.write(`wsgate ctl: ERR ${err.code} ${err.message}\n`);
    else if (isWsgateError(err)) io.stderr.write(`wsgate ctl: ${err.message}\n`);
    else throw err;
    return ExitCode.Runtime;
  } finally {
    await client?.close();
  }
}

const listHint = 'wsgate ctl: hint: `wsgate ctl list` shows the open connections (--json: their Locations and groups)\n';

function describeFilter(filter: { location?: string; group?: string }): string {
  const parts = [filter.location !== undefined && `--location ${filter.location}`, filter.group !== undefined && `--group ${filter.group}`].filter(Boolean);
  return parts.length > 0 ? `${parts.join(' ')} (sent to 0 connections)` : '(no connection is open; sent to 0)';
}

/** Standard input, whole (the MESSAGE `-`). */
async function readStdin(io: CliIO): Promise<Buffer> {
  if (!io.stdin) throw new UsageError('MESSAGE - reads standard input, which this caller does not provide');
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

async function commandFrom(words: string[], o: { location: string | undefined; group: string | undefined; binary: boolean }, io: CliIO): Promise<ControlCommand> {
  const [name, ...rest] = words;
  const filter = { ...(o.location !== undefined && { location: o.location }), ...(o.group !== undefined && { group: o.group }) };
  const message = async (text: string): Promise<string | Buffer> => {
    const bytes = text === '-' ? await readStdin(io) : Buffer.from(text);
    return o.binary ? bytes : bytes.toString('utf8');
  };
  const arity = (min: number, max: number, form: string): void => {
    if (rest.length < min || rest.length > max) throw new UsageError(`usage: wsgate ctl ${form}`);
  };
  switch (name) {
    case 'list':
      arity(0, 0, 'list [--location LOC] [--group G] [--json]');
      return { kind: 'list', detail: true, filter };
    case 'send':
      arity(2, 2, 'send [--binary] ID MESSAGE');
      return { kind: 'send', id: rest[0]!, data: await message(rest[1]!) };
    case 'broadcast':
      arity(1, 1, 'broadcast [--location LOC] [--group G] [--binary] MESSAGE');
      return { kind: 'broadcast', filter, data: await message(rest[0]!) };
    case 'close': {
      arity(1, 3, 'close ID [CODE [REASON]]');
      const code = rest[1] === undefined ? undefined : Number(rest[1]);
      if (code !== undefined && !Number.isInteger(code)) throw new UsageError(`close code '${rest[1]}' is not a number`);
      return { kind: 'close', id: rest[0]!, code, reason: rest[2] };
    }
    case 'join':
    case 'leave':
      arity(2, 2, `${name} ID GROUP`);
      return { kind: name, id: rest[0]!, group: rest[1]! };
    case undefined:
      throw new UsageError('no command');
    default:
      throw new UsageError(`unknown ctl command '${name}'`);
  }
}

function render(result: ControlResult, json: boolean): string {
  switch (result.kind) {
    case 'list':
      if (json) return `${JSON.stringify(result.connections, null, 2)}\n`;
      return result.connections.map((c) => `${encodeWord(c.id)} ${formatPeer(c)}\n`).join('');
    case 'sent':
      return `sent ${result.count}\n`;
    case 'closed':
      return 'closed\n';
    case 'joined':
      return 'joined\n';
    case 'left':
      return 'left\n';
    case 'info':
      return `${JSON.stringify(result.connection, null, 2)}\n`;
    case 'help':
      return result.lines.map((l) => `${l}\n`).join('');
    case 'status':
      return `${JSON.stringify(result.report, null, 2)}\n`;
    case 'pong':
    case 'bye':
      return 'ok\n';
  }
}
