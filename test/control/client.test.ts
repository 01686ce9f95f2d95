// The socket client (wsgate ctl's) reads OK n, n lines, END, and stays in step when pipelining.
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSocket, RemoteError } from '../../src/control/client.js';
import type { ControlResult } from '../../src/control/commands.js';
import { tempDir } from './helpers.js';
import { startLiveGateway, type LiveGateway } from './live-gateway.js';

describe('control socket client', () => {
  let live: LiveGateway;
  beforeAll(async () => {
    live = await startLiveGateway();
  });
  afterAll(() => live?.close());

  it('keeps pipelined block and one-line answers apart', async () => {
    const a = await live.client('/board', '&room=pipe');
    const b = await live.client('/echo');
    const client = await connectSocket(live.socketPath);
    try {
      // All written before any answer is read.
      const answers = await Promise.all([
        client.execute({ kind: 'list', detail: false, filter: { group: 'pipe' } }),
        client.execute({ kind: 'info', id: b.id }),
        client.execute({ kind: 'send', id: a.id, data: 'piped' }),
        client.execute({ kind: 'help' }),
        client.execute({ kind: 'list', detail: true, filter: { location: '/nowhere' } }),
        client.execute({ kind: 'info', id: 'nobody' }).catch((e: unknown) => e),
        client.execute({ kind: 'ping' }),
      ]);
      const [list, info, sent, help, empty, missing, pong] = answers as [ControlResult, ControlResult, ControlResult, ControlResult, ControlResult, unknown, ControlResult];
      expect(list.kind === 'list' && list.connections.map((c) => c.id)).toEqual([a.id]);
      expect(info.kind === 'info' && info.connection.id).toBe(b.id);
      expect(sent).toEqual({ kind: 'sent', count: 1, unreachable: [] });
      expect(help.kind === 'help' && help.lines[0]).toMatch(/^LIST /);
      expect(help.kind === 'help' && help.lines).not.toContain('END');
      expect(empty).toEqual({ kind: 'list', detail: true, connections: [], unreachable: [] });
      expect((missing as RemoteError).code).toBe('CONTROL_NOT_FOUND');
      expect(pong).toEqual({ kind: 'pong' });
      expect(await a.inbox.nextText()).toBe('piped');
    } finally {
      await client.close();
    }
    a.inbox.ws.close();
    b.inbox.ws.close();
  });

  it('refuses a block answer without its END instead of misreading what follows', async () => {
    const tmp = tempDir();
    const path = join(tmp.dir, 'old.sock');
    // A server from before the END marker: OK n, n lines, nothing else.
    const server = createServer((s) => s.on('data', () => s.write('OK 1\nx 127.0.0.1:1\nOK PONG\n')));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      const client = await connectSocket(path);
      const list = client.execute({ kind: 'list', detail: false, filter: {} });
      await expect(list).rejects.toThrow(/did not end with END/);
      await client.close();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      tmp.remove();
    }
  });
});
