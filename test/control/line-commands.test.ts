import { describe, expect, it } from 'vitest';
import { WsgateError } from '../../src/errors.js';
import { parseLineCommand, parsePayloadCommand, payloadLengthOf } from '../../src/control/line-commands.js';
import { decodeWord, encodeWord } from '../../src/control/words.js';
import { encodeRequest } from '../../src/control/wire.js';
import { LineParser } from '../../src/control/line-parser.js';
import type { ControlCommand } from '../../src/control/commands.js';
import { bearerMatches } from '../../src/control/auth.js';
import { isLoopbackHost } from '../../src/config/loopback.js';

describe('line commands', () => {
  const cases: Array<[string, ControlCommand]> = [
    ['ping', { kind: 'ping' }],
    ['LIST', { kind: 'list', detail: false, filter: {} }],
    ['list websockets /chat', { kind: 'list', detail: false, filter: { location: '/chat' } }],
    ['LIST DETAILS @room /a', { kind: 'list', detail: true, filter: { location: '/a', group: 'room' } }],
    ['SEND MESSAGE id42 hello  world ', { kind: 'send', id: 'id42', data: 'hello  world ' }],
    ['send message a%20b  x', { kind: 'send', id: 'a b', data: ' x' }],
    ['SEND MESSAGE id ', { kind: 'send', id: 'id', data: '' }],
    ['BROADCAST /chat hi there', { kind: 'broadcast', filter: { location: '/chat' }, data: 'hi there' }],
    ['BROADCAST hi /there', { kind: 'broadcast', filter: {}, data: 'hi /there' }],
    ['CLOSE x', { kind: 'close', id: 'x', code: undefined, reason: undefined }],
    ['CLOSE x 4000', { kind: 'close', id: 'x', code: 4000, reason: undefined }],
    ['CLOSE x 1000 see you  later', { kind: 'close', id: 'x', code: 1000, reason: 'see you  later' }],
    ['JOIN x news', { kind: 'join', id: 'x', group: 'news' }],
    ['JOIN x grp%20with%20space', { kind: 'join', id: 'x', group: 'grp with space' }],
    ['LIST @a%25b %2Fchat', { kind: 'list', detail: false, filter: { location: '/chat', group: 'a%b' } }],
    ['leave x news', { kind: 'leave', id: 'x', group: 'news' }],
  ];
  for (const [line, command] of cases) {
    it(`parses ${JSON.stringify(line)}`, () => {
      expect(parseLineCommand(line)).toEqual(command);
    });
  }

  for (const bad of ['', 'NOPE', 'SEND', 'SEND id text', 'SEND MESSAGE', 'SEND MESSAGE id', 'BROADCAST', 'CLOSE', 'CLOSE x y', 'INFO', 'INFO a b', 'JOIN x', 'LIST /a /b', 'LIST nope', 'PING now', 'INFO bad%zz', 'JOIN x 100%', 'LIST @%zz', 'LIST ^/rooms/[0-9]+$']) {
    it(`refuses ${JSON.stringify(bad)} with CONTROL_COMMAND`, () => {
      const err = (() => {
        try {
          parseLineCommand(bad);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(WsgateError);
      expect((err as WsgateError).code).toBe('CONTROL_COMMAND');
    });
  }

  it('reads the length of the payload forms only', () => {
    expect(payloadLengthOf('SENDB a 12')).toBe(12);
    expect(payloadLengthOf('broadcastt /x @g 0  ')).toBe(0);
    expect(payloadLengthOf('SEND MESSAGE a 12')).toBeUndefined();
    expect(payloadLengthOf('SENDB a')).toBeInstanceOf(WsgateError);
    expect(payloadLengthOf('SENDT a -1')).toBeInstanceOf(WsgateError);
  });

  it('builds payload commands with the frame type of the verb', () => {
    expect(parsePayloadCommand('SENDT a 2', Buffer.from('hi'))).toEqual({ kind: 'send', id: 'a', data: 'hi' });
    expect(parsePayloadCommand('SENDB a 2', Buffer.from('hi'))).toEqual({ kind: 'send', id: 'a', data: Buffer.from('hi') });
    expect(parsePayloadCommand('BROADCASTB /l @g 1', Buffer.from('x'))).toEqual({ kind: 'broadcast', filter: { location: '/l', group: 'g' }, data: Buffer.from('x') });
    expect(() => parsePayloadCommand('SENDB 1', Buffer.alloc(1))).toThrow(WsgateError);
    expect(() => parsePayloadCommand('BROADCASTT nope 1', Buffer.alloc(1))).toThrow(/usage/);
    expect(() => parsePayloadCommand('SENDT a 1', Buffer.from([0xff]))).toThrow(/UTF-8/);
  });

  it('round-trips odd ids through encodeWord/decodeWord', () => {
    for (const id of ['plain', 'with space', '100%', 'tab\there', 'ünïcode', 'OK', '.']) {
      const word = encodeWord(id);
      expect(word).toMatch(/^[\x21-\x7e]+$/);
      expect(decodeWord(word, 'id')).toBe(id);
    }
  });

  it('takes a word as a Location when it starts with / or names a known Location', () => {
    const known = (name: string) => name.startsWith('/') || name === '^/rooms/[0-9]+$' || name === 'a b';
    expect(parseLineCommand('LIST ^/rooms/[0-9]+$ @g', known)).toEqual({ kind: 'list', detail: false, filter: { location: '^/rooms/[0-9]+$', group: 'g' } });
    expect(parseLineCommand('BROADCAST ^/rooms/[0-9]+$ hello', known)).toEqual({ kind: 'broadcast', filter: { location: '^/rooms/[0-9]+$' }, data: 'hello' });
    expect(parseLineCommand('BROADCAST a%20b hi', known)).toEqual({ kind: 'broadcast', filter: { location: 'a b' }, data: 'hi' });
    // Not a known Location: the whole rest is the text, a stray % included.
    expect(parseLineCommand('BROADCAST ^/other$ hello', known)).toEqual({ kind: 'broadcast', filter: {}, data: '^/other$ hello' });
    expect(parseLineCommand('BROADCAST 100% sure', known)).toEqual({ kind: 'broadcast', filter: {}, data: '100% sure' });
    expect(parsePayloadCommand('BROADCASTB ^/rooms/[0-9]+$ 1', Buffer.from('x'), known)).toMatchObject({ filter: { location: '^/rooms/[0-9]+$' } });
    expect(() => parseLineCommand('LIST ^/other$', known)).toThrow(/is not a Location/);
    expect(() => parseLineCommand('LIST /a %2Fb', known)).toThrow(/usage/);
  });

  it('what the client encodes, the server parses back to the same command', () => {
    const commands: ControlCommand[] = [
      { kind: 'send', id: 'a b%', data: 'multi\nline' },
      { kind: 'send', id: 'x', data: Buffer.from([0, 13, 10, 255]) },
      { kind: 'broadcast', filter: { location: '/chat', group: 'g1' }, data: 'hey' },
      { kind: 'list', detail: true, filter: { location: '/x' } },
      { kind: 'close', id: 'z z', code: 4000, reason: 'bye bye' },
      { kind: 'join', id: 'q', group: 'news' },
      { kind: 'join', id: 'q', group: 'grp with space 100%\n' },
      { kind: 'leave', id: 'q', group: '@home' },
      { kind: 'list', detail: false, filter: { location: '^/rooms/[0-9]+$', group: 'r 1' } },
      { kind: 'broadcast', filter: { location: '@odd location', group: '@g' }, data: Buffer.from('b') },
    ];
    const known = (name: string) => name.startsWith('/') || name === '^/rooms/[0-9]+$' || name === '@odd location';
    const parser = new LineParser(payloadLengthOf);
    const requests = parser.push(Buffer.concat(commands.map(encodeRequest)));
    const parsed = requests.map((r) =>
      r.kind === 'line' ? parseLineCommand(r.line, known) : r.kind === 'payload' ? parsePayloadCommand(r.line, r.payload, known) : r.error,
    );
    expect(parsed).toEqual(commands);
  });
});

describe('control auth', () => {
  it('accepts exactly the configured bearer token', () => {
    expect(bearerMatches('Bearer abc', 'abc')).toBe(true);
    expect(bearerMatches('bearer   abc', 'abc')).toBe(true);
    expect(bearerMatches('Bearer abcd', 'abc')).toBe(false);
    expect(bearerMatches('Bearer ab', 'abc')).toBe(false);
    expect(bearerMatches('Basic abc', 'abc')).toBe(false);
    expect(bearerMatches('abc', 'abc')).toBe(false);
    expect(bearerMatches(undefined, 'abc')).toBe(false);
    expect(bearerMatches('Bearer ', '')).toBe(false);
  });

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '', '10.0.0.1', '192.168.1.1', 'example.com', '128.0.0.1']) expect(isLoopbackHost(h), h).toBe(false);
  });
});
