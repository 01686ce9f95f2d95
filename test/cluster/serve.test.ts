// `wsgate serve` with worker processes, as users run it: a real supervisor, real workers, a real C
// plugin that crashes its worker, the control socket, and graceful reloads by SIGHUP.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectSocket, type ControlClient } from '../../src/control/client.js';
import type { ConnectionInfo } from '../../src/control/index.js';
import { compileFixture, repoRoot } from '../native/helpers.js';
import { buildOnce, listeningAddress, logLines, startServe, stopAll, waitForLog, type ServeProcess } from '../server/spawned-serve.js';
import { openClient, type Client } from './ws-client.js';

let crasher: string;
const clients: WebSocket[] = [];
const controls: ControlClient[] = [];

beforeAll(() => {
  buildOnce();
  crasher = compileFixture('crasher');
});
afterEach(async () => {
  for (const ws of clients.splice(0)) ws.terminate();
  await Promise.all(controls.splice(0).map((c) => c.close()));
});
afterAll(() => stopAll());

interface Site {
  dir: string;
  conf: string;
  socket: string;
}

function site(extra = '', workers = 3): Site {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-workers-'));
  const conf = join(dir, 'wsgate.conf');
  const socket = join(dir, 'control.sock');
  writeFileSync(conf, config(socket, workers, extra));
  return { dir, conf, socket };
}

function config(socket: string, workers: number, extra: string): string {
  return `Listen 127.0.0.1:0
WebSocketWorkers ${workers}
WebSocketReloadDeadline 2
WebSocketControlSocket ${socket}
<Location /echo>
  SetHandler websocket-handler
  WebSocketHandler ${join(repoRoot, 'handlers/echo.mjs')}
</Location>
<Location /chat>
  SetHandler websocket-handler
  WebSocketHandler ${join(repoRoot, 'handlers/chat.mjs')}
</Location>
<Location /crash>
  SetHandler websocket-handler
  WebSocketHandler ${crasher} crasher_init
</Location>
${extra}`;
}

function open(url: string): Promise<Client> {
  return openClient(url, clients);
}

async function echoes(client: Client, text: string): Promise<void> {
  const before = client.messages.length;
  client.ws.send(text);
  const deadline = Date.now() + 5000;
  while (client.messages.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(client.messages.at(-1)).toBe(text);
}

async function serving(s: Site): Promise<{ served: ServeProcess; base: string; control: ControlClient }> {
  const served = startServe(['-f', s.conf]);
  const address = await listeningAddress(served);
  // After every worker is ready and the control socket listens.
  await waitForLog(served, 'serving');
  const control = await connectSocket(s.socket);
  controls.push(control);
  return { served, base: `ws://${address}`, control };
}

async function list(control: ControlClient): Promise<ConnectionInfo[]> {
  const result = await control.execute({ kind: 'list', detail: true, filter: {} });
  if (result.kind !== 'list') throw new Error('not a list');
  expect(result.unreachable).toEqual([]);
  return result.connections;
}

describe('serve with 3 worker processes', () => {
  it('spreads connections, and the registry and control channel span every worker', async () => {
    const { served, base, control } = await serving(site());
    // Workers run with the V8 options (src/cluster/worker-heap.ts) the supervisor adds to node's options.
    const workerPids = logLines(served).filter((l) => l.msg === 'worker ready').map((l) => l.workerPid as number);
    expect(workerPids).toHaveLength(3);
    for (const pid of workerPids) expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining(['--initial-old-space-size=64', '--no-parallel-scavenge', '--min-semi-space-size=8']));
    const chat = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => open(`${base}/chat?id=${id}${id < 'd' ? '&room=r1' : ''}`)));

    const listed = await list(control);
    expect(listed.map((c) => c.id).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(new Set(listed.map((c) => c.member)).size).toBe(3);

    // ?id= is unique across workers: whichever worker takes the handshake answers 409.
    for (let i = 0; i < 3; i++) await expect(open(`${base}/chat?id=a`)).rejects.toMatchObject({ status: 409 });

    // SEND and CLOSE reach a connection wherever it lives.
    const sent = await control.execute({ kind: 'send', id: 'e', data: 'to e' });
    expect(sent).toEqual({ kind: 'sent', count: 1, unreachable: [] });
    await expect.poll(() => chat[4]!.messages).toEqual(['to e']);
    await control.execute({ kind: 'close', id: 'f', code: 4001, reason: 'bye' });
    expect(await chat[5]!.closed).toBe(4001);

    // BROADCAST to a Location and to a group reaches every worker.
    expect(await control.execute({ kind: 'broadcast', filter: { location: '/chat' }, data: 'all' })).toEqual({ kind: 'sent', count: 5, unreachable: [] });
    expect(await control.execute({ kind: 'broadcast', filter: { group: 'room:r1' }, data: 'room' })).toEqual({ kind: 'sent', count: 3, unreachable: [] });
    await expect.poll(() => chat.slice(0, 3).map((c) => c.messages.join(','))).toEqual(['all,room', 'all,room', 'all,room']);
    expect(chat[3]!.messages).toEqual(['all']);

    // A handler's broadcast (the chat handler) reaches the room on every worker, in order per sender.
    for (let i = 0; i < 20; i++) chat[0]!.ws.send(`m${i}`);
    const expected = ['all', 'room', ...Array.from({ length: 20 }, (_, i) => `m${i}`)].join(',');
    await expect.poll(() => chat.slice(0, 3).map((c) => c.messages.join(','))).toEqual([expected, expected, expected]);
  });

  it('a plugin that crashes takes down only its worker: others keep serving, a new worker takes over within 2 s', async () => {
    const { served, base, control } = await serving(site());
    const echo = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => open(`${base}/echo?id=e${i}`)));
    const victim = await open(`${base}/crash?id=victim`);
    const members = new Map((await list(control)).map((c) => [c.id, c.member]));
    const doomed = members.get('victim')!;
    const pid = logLines(served).find((l) => l.msg === 'worker ready' && `w${String(l.workerId)}` === doomed)!.workerPid as number;

    victim.ws.send('crash');
    expect(await victim.closed).toBe(1006);
    const died = await waitForLog(served, 'worker died; replacing it', { workerPid: pid });
    expect(died[0]).toMatchObject({ signal: 'SIGSEGV', context: { handlers: expect.arrayContaining([`/crash ${crasher} crasher_init`]) } });

    for (const [i, client] of echo.entries()) {
      if (members.get(`e${i + 1}`) === doomed) expect(await client.closed).toBe(1006);
      else await echoes(client, `still here ${i}`);
    }
    const start = Date.now();
    let again: Client | undefined;
    while (!again && Date.now() - start < 2000) again = await open(`${base}/crash`).catch(() => undefined);
    expect(again, 'served again within 2 s').toBeDefined();
    await echoes(again!, 'after the crash');
    // Every connection of the dead worker is gone from the registry.
    expect((await list(control)).map((c) => c.member)).not.toContain(doomed);
  });

  it('a worker killed with SIGKILL is replaced; the connections of the others are untouched', async () => {
    const { served, base, control } = await serving(site('', 2));
    const echo = await Promise.all([1, 2, 3, 4].map((i) => open(`${base}/echo?id=k${i}`)));
    const members = new Map((await list(control)).map((c) => [c.id, c.member]));
    const doomed = members.get('k1')!;
    const ready = logLines(served).find((l) => l.msg === 'worker ready' && `w${String(l.workerId)}` === doomed)!;
    process.kill(ready.workerPid as number, 'SIGKILL');
    await waitForLog(served, 'worker died; replacing it', { workerPid: ready.workerPid, signal: 'SIGKILL' });
    for (const [i, client] of echo.entries()) {
      if (members.get(`k${i + 1}`) === doomed) expect(await client.closed).toBe(1006);
      else await echoes(client, `k${i + 1} alive`);
    }
    await waitForLog(served, 'worker ready', {}, 3);
    await echoes(await open(`${base}/echo`), 'new worker');
  });
});

describe('graceful reload (SIGHUP)', () => {
  it('a valid change applies to new connections; old ones keep working until the deadline, then 1012', async () => {
    const s = site();
    const { served, base } = await serving(s);
    const old = await open(`${base}/echo`);
    await expect(open(`${base}/fresh`)).rejects.toMatchObject({ status: 404 });

    writeFileSync(
      s.conf,
      config(s.socket, 2, `<Location /fresh>\n  SetHandler websocket-handler\n  WebSocketHandler ${join(repoRoot, 'handlers/echo.mjs')}\n  MaxMessageSize 8\n</Location>\n`),
    );
    served.child.kill('SIGHUP');
    await waitForLog(served, 'reloaded: new connections go to the new workers');

    const fresh = await open(`${base}/fresh`);
    await echoes(fresh, '8 bytes!');
    fresh.ws.send('nine bytes');
    expect(await fresh.closed).toBe(1009);
    await echoes(old, 'old worker still serves');
    expect(await old.closed).toBe(1012);
    await waitForLog(served, 'worker exited', {}, 3);
  });

  it('an invalid change keeps the running config and logs every error with its position', async () => {
    const s = site();
    const { served, base } = await serving(s);
    const old = await open(`${base}/echo`);
    writeFileSync(s.conf, `${config(s.socket, 3, '')}\n<Location /bad>\n  MaxMessageSize lots\n</Location>\n`);
    served.child.kill('SIGHUP');
    const [error] = await waitForLog(served, 'reload: config error');
    expect(error!.error).toMatch(new RegExp(`^${s.conf.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: .*MaxMessageSize`));
    await waitForLog(served, 'reload refused: the running config stays');
    await echoes(old, 'untouched');
    await echoes(await open(`${base}/echo`), 'new connections too');
    expect(logLines(served).filter((l) => l.msg === 'worker ready')).toHaveLength(3);
  });

  it('a handler that does not load in the new workers keeps the old generation serving', async () => {
    const s = site();
    const { served, base } = await serving(s);
    writeFileSync(s.conf, config(s.socket, 3, `<Location /broken>\n  SetHandler websocket-handler\n  WebSocketHandler ${crasher} no_such_init\n</Location>\n`));
    served.child.kill('SIGHUP');
    const [error] = await waitForLog(served, 'reload: config error');
    expect(error!.error).toMatch(/no_such_init/);
    await waitForLog(served, 'reload refused: the running config stays');
    await echoes(await open(`${base}/echo`), 'old generation');
  });

  it('wsgate reload checks the config, then signals the gateway named by WebSocketPidFile', async () => {
    const s = site('WebSocketPidFile gateway.pid\n', 2);
    const { served, base } = await serving(s);
    const reload = (): { status: number | null; stdout: string; stderr: string } =>
      spawnSync(process.execPath, [join(repoRoot, 'bin/wsgate.js'), 'reload', '-f', s.conf], { encoding: 'utf8' });

    writeFileSync(s.conf, `${readFileSync(s.conf, 'utf8')}\nMaxMessageSize nonsense\n`);
    const refused = reload();
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/MaxMessageSize/);
    expect(refused.stderr).toMatch(/nothing was sent/);

    writeFileSync(s.conf, config(s.socket, 2, 'WebSocketPidFile gateway.pid\n'));
    const done = reload();
    expect(done.stderr).toBe('');
    expect(done.status).toBe(0);
    expect(done.stdout).toMatch(new RegExp(`SIGHUP to ${served.child.pid}`));
    await waitForLog(served, 'reloaded: new connections go to the new workers');
    expect(logLines(served).filter((l) => l.msg === 'reload: reading the config')).toHaveLength(1);
    await echoes(await open(`${base}/echo`), 'generation 2');
    served.child.kill('SIGTERM');
    expect(await served.exit).toBe(0);
    expect(existsSync(join(s.dir, 'gateway.pid'))).toBe(false);
  });

  it('SIGTERM closes every connection on every worker with 1001 and exits 0', async () => {
    const { served, base } = await serving(site());
    const all = await Promise.all([1, 2, 3, 4, 5].map(() => open(`${base}/echo`)));
    served.child.kill('SIGTERM');
    expect(await Promise.all(all.map((c) => c.closed))).toEqual([1001, 1001, 1001, 1001, 1001]);
    expect(await served.exit).toBe(0);
  });
});
