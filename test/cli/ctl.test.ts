// `wsgate ctl` (the real command) against a live gateway: a target that matched nothing, and MESSAGE `-` from stdin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ctlTransports, startLiveGateway, type LiveGateway } from '../control/live-gateway.js';
import { buildDist, wsgate } from './bin.js';

const hint = 'wsgate ctl: hint: `wsgate ctl list` shows the open connections (--json: their Locations and groups)\n';

describe('wsgate ctl', { timeout: 60_000 }, () => {
  let live: LiveGateway;
  beforeAll(async () => {
    buildDist();
    live = await startLiveGateway();
  }, 120_000);
  afterAll(() => live?.close());

  it('exits 1 with a hint when no connection matched: unknown id (send, close, join), empty broadcast', async () => {
    for (const t of ctlTransports(live)) {
      for (const args of [['send', 'nobody', 'x'], ['close', 'nobody'], ['join', 'nobody', 'g']]) {
        const r = await wsgate(['ctl', ...t.args, ...args], { env: t.env });
        expect(r, `${t.name} ${args.join(' ')}`).toEqual({ code: 1, stdout: '', stderr: `wsgate ctl: no connection matched: no open connection with id 'nobody'\n${hint}` });
      }
      const group = await wsgate(['ctl', ...t.args, 'broadcast', '--group', 'nobody-is-here', 'x'], { env: t.env });
      expect(group, t.name).toEqual({ code: 1, stdout: 'sent 0\n', stderr: `wsgate ctl: no connection matched --group nobody-is-here (sent to 0 connections)\n${hint}` });
      // A configured Location with no client on it.
      const location = await wsgate(['ctl', ...t.args, 'broadcast', '--location', '^/rooms/[0-9]+$', 'x'], { env: t.env });
      expect(location.code, t.name).toBe(1);
      expect(location.stderr, t.name).toMatch(/^wsgate ctl: no connection matched --location \^\/rooms\/\[0-9\]\+\$ \(sent to 0 connections\)\n/);
      // One that is not configured at all.
      const unknown = await wsgate(['ctl', ...t.args, 'broadcast', '--location', '/nope', 'x'], { env: t.env });
      expect(unknown.code, `${t.name} ${unknown.stderr}`).not.toBe(0);
      expect(unknown.stderr, t.name).toMatch(/\/nope/);
    }
  });

  it('reads MESSAGE - from standard input, byte for byte', async () => {
    for (const t of ctlTransports(live)) {
      const a = await live.client('/echo');
      const sent = await wsgate(['ctl', ...t.args, 'send', a.id, '-'], { env: t.env, input: `line one\nline "two" ${t.name}\n` });
      expect(sent, t.name).toEqual({ code: 0, stdout: 'sent 1\n', stderr: '' });
      expect(await a.inbox.nextText()).toBe(`line one\nline "two" ${t.name}\n`);

      const bytes = Buffer.from([0, 1, 2, 0xff, 10]);
      expect((await wsgate(['ctl', ...t.args, 'send', '--binary', a.id, '-'], { env: t.env, input: bytes })).code, t.name).toBe(0);
      const bin = await a.inbox.next();
      expect([bin.isBinary, bin.data.equals(bytes)], t.name).toEqual([true, true]);

      const cast = await wsgate(['ctl', ...t.args, 'broadcast', '--location', '/echo', '-'], { env: t.env, input: 'to all' });
      expect(cast.code, t.name).toBe(0);
      expect(await a.inbox.nextText()).toBe('to all');
      a.inbox.ws.close();
    }
  });
});
