// `wsgate ctl` run in-process against a real gateway, over the socket and over HTTP.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';
import { ctlTransports, liveToken, startLiveGateway, type LiveGateway } from './live-gateway.js';
import { runCtl as run } from './run-ctl.js';

describe('wsgate ctl', () => {
  let live: LiveGateway;
  beforeAll(async () => {
    live = await startLiveGateway();
  });
  afterAll(() => live?.close());

  const transports = () => ctlTransports(live);

  it('lists, sends, broadcasts and closes over both transports', async () => {
    for (const t of transports()) {
      const a = await live.client('/board');
      const b = await live.client('/echo');
      const list = await run([...t.args, 'list'], t.env);
      expect(list.code, t.name).toBe(0);
      expect(list.stdout, t.name).toMatch(new RegExp(`^${a.id} 127\\.0\\.0\\.1:\\d+$`, 'm'));
      const json = await run([...t.args, 'list', '--json', '--location', '/echo'], t.env);
      expect(JSON.parse(json.stdout).map((c: { id: string }) => c.id), t.name).toContain(b.id);
      expect(JSON.parse(json.stdout).map((c: { id: string }) => c.id), t.name).not.toContain(a.id);

      expect(await run([...t.args, 'send', a.id, `hello\nover ${t.name}`], t.env)).toEqual({ code: 0, stdout: 'sent 1\n', stderr: '' });
      expect(await a.inbox.nextText()).toBe(`hello\nover ${t.name}`);
      expect((await run([...t.args, 'send', '--binary', a.id, 'bin'], t.env)).code).toBe(0);
      const bin = await a.inbox.next();
      expect([bin.isBinary, bin.data.toString()]).toEqual([true, 'bin']);
      const cast = await run([...t.args, 'broadcast', '--location', '/board', `all ${t.name}`], t.env);
      expect(cast.code, t.name).toBe(0);
      expect(cast.stdout).toMatch(/^sent [1-9]\d*\n$/);
      expect(await a.inbox.nextText()).toBe(`all ${t.name}`);
      expect(await run([...t.args, 'close', b.id, '4003', 'ctl close'], t.env)).toEqual({ code: 0, stdout: 'closed\n', stderr: '' });
      expect(await b.inbox.closed).toEqual({ code: 4003, reason: 'ctl close' });
      a.inbox.ws.close();
    }
  });

  it('exits 2 with the server message on ERR, on a bad token and when nothing listens; 1 when no connection matched', async () => {
    for (const t of transports()) {
      const missing = await run([...t.args, 'send', 'nobody', 'x'], t.env);
      expect(missing.code, t.name).toBe(1);
      expect(missing.stderr, t.name).toMatch(/^wsgate ctl: no connection matched: no open connection with id 'nobody'\nwsgate ctl: hint: /);
      const badCode = await run([...t.args, 'close', 'nobody', '1005'], t.env);
      expect([badCode.code, badCode.stderr.startsWith('wsgate ctl: ERR CONTROL_COMMAND close code 1005')], t.name).toEqual([2, true]);
    }
    const wrongToken = await run(['--url', live.httpBase, '--token', 'nope', 'list']);
    expect(wrongToken.code).toBe(2);
    expect(wrongToken.stderr).toMatch(/ERR CONTROL_AUTH/);
    const nothing = await run(['--socket', `${live.socketPath}.absent`, 'list']);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/cannot connect to control socket/);
  });

  it('exits 1 on usage errors', async () => {
    for (const args of [['list'], ['--socket', live.socketPath], ['--socket', live.socketPath, 'send', 'onlyid'], ['--socket', live.socketPath, 'frob'], ['--socket', live.socketPath, 'close', 'a', 'x'], ['--bogus']]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(/^wsgate ctl: .+\nusage: wsgate ctl/);
    }
    expect((await run(['--help'])).code).toBe(0);
  });

  it('takes the socket from WSGATE_CONTROL_SOCKET', async () => {
    const r = await run(['list'], { WSGATE_CONTROL_SOCKET: live.socketPath });
    expect(r.code).toBe(0);
  });

  it('takes the channel from a config file with -f, and conf/wsgate.conf by default', async () => {
    const dir = tempDir();
    try {
      const a = await live.client('/echo');
      const viaSocket = join(dir.dir, 'socket.conf');
      writeFileSync(viaSocket, `WebSocketControlSocket ${live.socketPath}\n`);
      expect(await run(['-f', viaSocket, 'send', a.id, 'from -f socket'])).toMatchObject({ code: 0, stdout: 'sent 1\n' });
      expect(await a.inbox.nextText()).toBe('from -f socket');

      mkdirSync(join(dir.dir, 'conf'));
      const port = new URL(live.httpBase).port;
      writeFileSync(join(dir.dir, 'conf/wsgate.conf'), `# control over HTTP\nWebSocketControlListen 127.0.0.1:${port}\nWebSocketControlToken ${liveToken}\n`);
      expect(await run(['send', a.id, 'from conf/wsgate.conf'], {}, dir.dir)).toMatchObject({ code: 0, stdout: 'sent 1\n' });
      expect(await a.inbox.nextText()).toBe('from conf/wsgate.conf');

      const broken = join(dir.dir, 'broken.conf');
      writeFileSync(broken, '\nWebSocketControlSockit /tmp/x.sock\n');
      const bad = await run(['-f', broken, 'list']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(new RegExp(`^${broken.replace(/[.]/g, '\\.')}:2:1: `));
      const none = join(dir.dir, 'none.conf');
      writeFileSync(none, 'Listen 127.0.0.1:8080\n');
      const empty = await run(['-f', none, 'list']);
      expect([empty.code, empty.stderr]).toEqual([1, `wsgate ctl: ${none} sets up no control channel (WebSocketControlSocket or WebSocketControlListen)\n`]);
      a.inbox.ws.close();
    } finally {
      dir.remove();
    }
  });
});
