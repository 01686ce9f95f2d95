// <LocationMatch> Locations and odd group names on a real gateway: raw socket commands, and
// `wsgate ctl` over both transports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converse } from './helpers.js';
import { ctlTransports, roomsLocation, startLiveGateway, type LiveGateway } from './live-gateway.js';
import { runCtl } from './run-ctl.js';

describe('regex Locations and group names with spaces', () => {
  let live: LiveGateway;
  beforeAll(async () => {
    live = await startLiveGateway();
  });
  afterAll(() => live?.close());

  const transports = () => ctlTransports(live);

  it('addresses a <LocationMatch> endpoint by its regex source on the socket', async () => {
    const room = await live.client('/rooms/7');
    const echo = await live.client('/echo');
    const answer = await converse(live.socketPath, `LIST ${roomsLocation}\nLIST DETAILS ${roomsLocation}\nBROADCAST ${roomsLocation} hello rooms\n`, 7);
    expect(answer[0]).toBe('OK 1');
    expect(answer[1]).toMatch(new RegExp(`^${room.id} 127\\.0\\.0\\.1:\\d+$`));
    expect(answer.slice(2, 4)).toEqual(['END', 'OK 1']);
    expect(JSON.parse(answer[4]!)).toMatchObject({ id: room.id, location: roomsLocation, path: '/rooms/7' });
    expect(answer.slice(5)).toEqual(['END', 'OK SENT 1']);
    // The Location word is not part of the message, and only the room's connection got it.
    expect(await room.inbox.nextText()).toBe('hello rooms');
    expect(await converse(live.socketPath, `SEND MESSAGE ${echo.id} direct\n`, 1)).toEqual(['OK SENT 1']);
    expect(await echo.inbox.nextText()).toBe('direct');
    room.inbox.ws.close();
    echo.inbox.ws.close();
  });

  it('knows a configured regex Location while nobody is connected to it', async () => {
    const echo = await live.client('/echo');
    const answer = await converse(live.socketPath, `LIST ${roomsLocation}\nBROADCAST ${roomsLocation} nobody there\nLIST ^/unknown$\n`, 4);
    expect(answer.slice(0, 3)).toEqual(['OK 0', 'END', 'OK SENT 0']);
    expect(answer[3]).toMatch(/^ERR CONTROL_COMMAND '\^\/unknown\$' is not a Location/);
    // The text was not broadcast elsewhere with the regex in front of it.
    expect(await converse(live.socketPath, `SEND MESSAGE ${echo.id} first\n`, 1)).toEqual(['OK SENT 1']);
    expect(await echo.inbox.nextText()).toBe('first');
    echo.inbox.ws.close();
  });

  it('wsgate ctl --location takes a regex Location over both transports', async () => {
    for (const t of transports()) {
      const room = await live.client('/rooms/42');
      const echo = await live.client('/echo');
      const list = await runCtl([...t.args, 'list', '--location', roomsLocation], t.env);
      expect(list.code, t.name).toBe(0);
      expect(list.stdout.trim().split('\n').map((l) => l.split(' ')[0]), t.name).toEqual([room.id]);
      expect(await runCtl([...t.args, 'broadcast', '--location', roomsLocation, `to rooms over ${t.name}`], t.env)).toEqual({ code: 0, stdout: 'sent 1\n', stderr: '' });
      expect(await room.inbox.nextText()).toBe(`to rooms over ${t.name}`);
      expect((await runCtl([...t.args, 'send', echo.id, 'only this'], t.env)).code).toBe(0);
      expect(await echo.inbox.nextText()).toBe('only this');
      room.inbox.ws.close();
      echo.inbox.ws.close();
    }
  });

  it('wsgate ctl joins, targets and leaves groups whose names have spaces and %', async () => {
    for (const t of transports()) {
      const group = `grp with space 100% ${t.name}`;
      const a = await live.client('/echo');
      expect(await runCtl([...t.args, 'join', a.id, group], t.env)).toEqual({ code: 0, stdout: 'joined\n', stderr: '' });
      const listed = await runCtl([...t.args, 'list', '--json', '--group', group], t.env);
      expect(JSON.parse(listed.stdout).map((c: { id: string; groups: string[] }) => [c.id, c.groups]), t.name).toEqual([[a.id, [group]]]);
      expect(await runCtl([...t.args, 'broadcast', '--group', group, 'to the group'], t.env)).toEqual({ code: 0, stdout: 'sent 1\n', stderr: '' });
      expect(await a.inbox.nextText()).toBe('to the group');
      expect(await runCtl([...t.args, 'leave', a.id, group], t.env)).toEqual({ code: 0, stdout: 'left\n', stderr: '' });
      const none = await runCtl([...t.args, 'broadcast', '--group', group, 'nobody'], t.env);
      expect([none.code, none.stdout], t.name).toEqual([1, 'sent 0\n']);
      expect(none.stderr, t.name).toMatch(/^wsgate ctl: no connection matched --group grp with space 100% \S+ \(sent to 0 connections\)\n/);
      a.inbox.ws.close();
    }
  });

  it('percent-decodes group words typed on the socket, and refuses a bare %', async () => {
    const a = await live.client('/echo');
    const answer = await converse(live.socketPath, `JOIN ${a.id} two%20words\nINFO ${a.id}\nJOIN ${a.id} 100%\n`, 5);
    expect(answer[0]).toBe('OK JOINED');
    expect(JSON.parse(answer[2]!).groups).toEqual(['two words']);
    expect(answer[4]).toMatch(/^ERR CONTROL_COMMAND bad percent-encoding in group '100%'/);
    a.inbox.ws.close();
  });
});
