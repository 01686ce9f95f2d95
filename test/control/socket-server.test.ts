import { statSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WsgateError } from '../../src/errors.js';
import { startSocketServer, type RunningSocketServer } from '../../src/control/socket-server.js';
import { listenWithMode } from '../../src/control/socket-path.js';
import { FakeGateway } from './fake-gateway.js';
import { converse, silentLog, tempDir } from './helpers.js';

const loc = { file: '/etc/wsgate.conf', line: 12, column: 1 };

describe('control socket (fake gateway)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let server: RunningSocketServer | undefined;
  let gateway: FakeGateway;
  let path: string;

  beforeEach(() => {
    tmp = tempDir();
    path = join(tmp.dir, 'control.sock');
    gateway = new FakeGateway();
    server = undefined;
  });
  afterEach(async () => {
    await server?.close();
    tmp.remove();
  });

  const start = async (mode = 0o660): Promise<void> => {
    server = await startSocketServer({ path, mode, loc, registry: gateway, log: silentLog });
  };

  it('answers pipelined commands in order, one status line each', async () => {
    gateway.add('a', '/chat', ['room1']);
    gateway.add('b c', '/echo');
    await start();
    const input = 'PING\r\nLIST WEBSOCKETS\nLIST /chat\nSEND MESSAGE a hello world\nSEND MESSAGE nobody hi\nBROADCAST /echo to echo\nBOGUS\nCLOSE a 4000 bye now\nPING\n';
    const answer = await converse(path, input, 14);
    expect(answer).toEqual([
      'OK PONG',
      'OK 2',
      'a 127.0.0.1:40001',
      'b%20c 127.0.0.1:40003',
      'END',
      'OK 1',
      'a 127.0.0.1:40001',
      'END',
      'OK SENT 1',
      "ERR CONTROL_NOT_FOUND no open connection with id 'nobody'",
      'OK SENT 1',
      "ERR CONTROL_COMMAND unknown command 'BOGUS' (try HELP)",
      'OK CLOSED',
      'OK PONG',
    ]);
    expect(gateway.conns.get('a')!.sent).toEqual([{ data: 'hello world', isBinary: false }]);
    expect(gateway.conns.get('b c')!.sent).toEqual([{ data: 'to echo', isBinary: false }]);
    expect(gateway.conns.get('a')!.closedWith).toEqual({ code: 4000, reason: 'bye now' });
  });

  it('carries newlines and binary bytes in the length-delimited forms', async () => {
    const a = gateway.add('a');
    gateway.add('b', '/other', ['g']);
    await start();
    const text = 'line one\nline two\r\n€';
    const binary = Buffer.from([0, 10, 13, 255, 0x4f, 0x4b]);
    const input = Buffer.concat([
      Buffer.from(`SENDT a ${Buffer.byteLength(text)}\n${text}`),
      Buffer.from(`SENDB %61 ${binary.length}\n`),
      binary,
      Buffer.from('\nBROADCASTB @g 2\nhiBROADCASTT /nowhere 1\nxLIST DETAILS @g\n'),
    ]);
    const answer = await converse(path, input, 7);
    expect(answer.slice(0, 5)).toEqual(['OK SENT 1', 'OK SENT 1', 'OK SENT 1', 'OK SENT 0', 'OK 1']);
    expect(JSON.parse(answer[5]!)).toMatchObject({ id: 'b', location: '/other', groups: ['g'], version: 13 });
    expect(answer[6]).toBe('END');
    expect(a.sent[0]).toEqual({ data: text, isBinary: false });
    expect(Buffer.compare(a.sent[1]!.data as Buffer, binary)).toBe(0);
    expect(a.sent[1]!.isBinary).toBe(true);
    expect(gateway.conns.get('b')!.sent).toEqual([{ data: Buffer.from('hi'), isBinary: true }]);
  });

  it('refuses bad input with ERR and never crashes', async () => {
    gateway.add('a');
    await start();
    const input = Buffer.concat([
      Buffer.from('SEND\nSEND MESSAGE\nCLOSE a 1005\nCLOSE a x\nCLOSE a 1000 ' + 'r'.repeat(200) + '\nLIST /a /b /c\nPING extra\nSENDT a 2\n'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('\nJOIN a\nHELP\n'),
    ]);
    const answer = await converse(path, input, 9);
    expect(answer.slice(0, 9).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual([
      'ERR CONTROL_COMMAND',
      'ERR CONTROL_COMMAND',
      'ERR CONTROL_COMMAND',
      'ERR CONTROL_COMMAND',
      'ERR CONTROL_COMMAND',
      'ERR CONTROL_COMMAND',
      'ERR CONTROL_COMMAND',
      'ERR INVALID_UTF8',
      'ERR CONTROL_COMMAND',
    ]);
    expect(gateway.conns.get('a')!.isOpen).toBe(true);
    expect(gateway.conns.get('a')!.sent).toEqual([]);
  });

  it('ends every LIST, INFO and HELP block with END, also when it is empty', async () => {
    gateway.add('a', '/chat');
    await start();
    const answer = await converse(path, 'LIST /nowhere\nINFO a\nHELP\nPING\n', (got) => got.includes('OK PONG'));
    expect(answer.slice(0, 5)).toEqual(['OK 0', 'END', 'OK 1', expect.stringMatching(/^\{"id":"a"/), 'END']);
    const helpCount = Number(/^OK (\d+)$/.exec(answer[5]!)![1]);
    expect(answer.slice(6 + helpCount)).toEqual(['END', 'OK PONG']);
  });

  it('lists only open connections, consistent with SEND and INFO', async () => {
    gateway.add('open', '/chat', ['g']);
    gateway.add('closing', '/chat', ['g']).isOpen = false;
    await start();
    const answer = await converse(path, 'LIST\nLIST DETAILS @g\nINFO closing\nSEND MESSAGE closing x\n', 8);
    expect(answer[0]).toBe('OK 1');
    expect(answer[1]).toMatch(/^open /);
    expect(answer.slice(2, 4)).toEqual(['END', 'OK 1']);
    expect(JSON.parse(answer[4]!).id).toBe('open');
    expect(answer.slice(5)).toEqual(['END', "ERR CONTROL_NOT_FOUND no open connection with id 'closing'", "ERR CONTROL_NOT_FOUND no open connection with id 'closing'"]);
  });

  it('knows configured <LocationMatch> names as Locations, without any connection there', async () => {
    gateway.add('a', '/chat');
    server = await startSocketServer({ path, mode: 0o660, loc, registry: gateway, log: silentLog, locations: ['/chat', '^/rooms/[0-9]+$'] });
    const answer = await converse(path, 'LIST ^/rooms/[0-9]+$\nBROADCAST ^/rooms/[0-9]+$ hello\nLIST ^/nope$\nBROADCAST ^/nope$ hi\n', 5);
    expect(answer.slice(0, 3)).toEqual(['OK 0', 'END', 'OK SENT 0']);
    expect(answer[3]).toMatch(/^ERR CONTROL_COMMAND '\^\/nope\$' is not a Location/);
    expect(answer[4]).toBe('OK SENT 1');
    expect(gateway.conns.get('a')!.sent).toEqual([{ data: '^/nope$ hi', isBinary: false }]);
  });

  it('closes a client whose payload length is unreadable, after telling it why', async () => {
    await start();
    const answer = await converse(path, 'SENDB a many\nPING\n', 5);
    expect(answer).toHaveLength(1);
    expect(answer[0]).toMatch(/^ERR CONTROL_COMMAND SENDB needs/);
  });

  it('answers an oversize line with ERR and stays usable', async () => {
    gateway.add('a');
    await start();
    const big = 'x'.repeat(1024 * 1024 + 8192);
    const answer = await converse(path, `SEND MESSAGE a ${big}\nSEND MESSAGE a ${'y'.repeat(1024 * 1024)}\nQUIT\nPING\n`, 3);
    expect(answer).toEqual(['ERR MESSAGE_TOO_BIG line longer than 1052672 bytes', 'OK SENT 1', 'OK BYE']);
    expect((gateway.conns.get('a')!.sent[0]!.data as string).length).toBe(1024 * 1024);
  });

  it('creates the socket file with the configured mode', async () => {
    await start(0o600);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await server!.close();
    server = undefined;
    expect(existsSync(path)).toBe(false);
    await start(0o666);
    expect(statSync(path).mode & 0o777).toBe(0o666);
  });

  it('creates the file with its final mode at bind time, before any chmod', async () => {
    const server = createServer();
    let modeAtListening = -1;
    server.once('listening', () => (modeAtListening = statSync(path).mode & 0o777));
    const previous = process.umask(0o022);
    try {
      await listenWithMode(server, path, 0o640, loc);
      expect(process.umask()).toBe(0o022); // restored
    } finally {
      process.umask(previous);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(modeAtListening).toBe(0o640);
  });

  it('replaces a stale socket file nobody listens on', async () => {
    // A socket file left behind by a process that died without cleaning up.
    const r = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(r.signal).toBe('SIGKILL');
    expect(statSync(path).isSocket()).toBe(true);
    await start();
    expect(await converse(path, 'PING\n', 1)).toEqual(['OK PONG']);
  });

  it('refuses a regular file at the path and leaves it alone', async () => {
    writeFileSync(path, 'precious');
    const err = await startSocketServer({ path, mode: 0o660, loc, registry: gateway, log: silentLog }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WsgateError);
    expect((err as WsgateError).code).toBe('CONTROL_SOCKET');
    expect((err as WsgateError).format()).toBe(`/etc/wsgate.conf:12:1: control socket path ${path} exists and is not a socket; refusing to replace it`);
    expect(statSync(path).isFile()).toBe(true);
  });

  it('refuses a socket another process is listening on', async () => {
    await start();
    const err = await startSocketServer({ path, mode: 0o660, loc, registry: gateway, log: silentLog }).catch((e: unknown) => e);
    expect((err as WsgateError).code).toBe('CONTROL_SOCKET');
    expect((err as WsgateError).message).toMatch(/another process is listening/);
    expect(await converse(path, 'PING\n', 1)).toEqual(['OK PONG']);
  });
});
