// The connection log an operator gets at the default LogLevel, read from a spawned `wsgate serve`'s
// JSON lines: refused handshakes with why, each connection's open and close with its counters, and
// WebSocketConnectionLog turning them off (per Location, the main server's value where none matched).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './config-fixture.js';
import { closed, handshakeStatus, hybiRequest, nextMessage, openWs, RawClient } from './helpers.js';
import { buildOnce, listeningAddress, logLines, startServe, stopAll, waitForLog, type ServeProcess } from './spawned-serve.js';

const echo = resolve(repoRoot, 'handlers/echo.mjs');
const location = (path: string, ...extra: string[]): string[] => [`<Location ${path}>`, '  SetHandler websocket-handler', `  WebSocketHandler ${echo}`, ...extra, '</Location>'];

let tmp: string;
beforeAll(() => {
  buildOnce();
  tmp = mkdtempSync(join(tmpdir(), 'wsgate-connlog-'));
});
afterAll(() => {
  stopAll();
  rmSync(tmp, { recursive: true, force: true });
});

function serveConfig(name: string, lines: string[]): ServeProcess {
  const file = join(tmp, name);
  writeFileSync(file, ['Listen 127.0.0.1:0', 'WebSocketPingInterval 0', ...lines, ''].join('\n'));
  return startServe(['-f', file]);
}

describe('connection log at the default level (WebSocketConnectionLog On)', () => {
  let served: ServeProcess;
  let address: string;
  beforeAll(async () => {
    served = serveConfig('on.conf', location('/echo'));
    address = await listeningAddress(served);
  });

  it('a 403 for a foreign Origin: status, reason, method, url, remote, user-agent and origin', async () => {
    const refused = await handshakeStatus(`ws://${address}/echo?id=x1`, undefined, { origin: 'http://elsewhere.example', headers: { 'User-Agent': 'log-test/1' } });
    expect(refused.status).toBe(403);
    const [line] = await waitForLog(served, 'handshake refused', { status: 403 });
    expect(line).toMatchObject({
      level: 30,
      status: 403,
      reason: 'origin http://elsewhere.example is not allowed here',
      method: 'GET',
      url: '/echo?id=x1',
      remote: '127.0.0.1',
      userAgent: 'log-test/1',
      origin: 'http://elsewhere.example',
    });
  });

  it('a 404 where no Location matches, and a 400 for a bad Sec-WebSocket-Key', async () => {
    expect((await handshakeStatus(`ws://${address}/nowhere`)).status).toBe(404);
    const [notFound] = await waitForLog(served, 'handshake refused', { status: 404 });
    expect(notFound).toMatchObject({ url: '/nowhere', reason: 'no WebSocket Location matches /nowhere', remote: '127.0.0.1' });

    const raw = await RawClient.open(Number(address.split(':')[1]));
    raw.write(hybiRequest('/echo', { 'Sec-WebSocket-Key': 'short' }));
    expect(await raw.head()).toMatch(/^HTTP\/1\.1 400 /);
    raw.destroy();
    const [badKey] = await waitForLog(served, 'handshake refused', { status: 400 });
    expect(badKey).toMatchObject({ url: '/echo', method: 'GET', remote: '127.0.0.1' });
    expect(badKey!.reason).toMatch(/Sec-WebSocket-Key/);
  });

  it('a malformed request line: 400 from the HTTP parser, logged with the reason', async () => {
    const raw = await RawClient.open(Number(address.split(':')[1]));
    raw.write('NOT A REQUEST\r\n\r\n');
    expect(await raw.head()).toMatch(/^HTTP\/1\.1 400 /);
    raw.destroy();
    const [line] = await waitForLog(served, 'request refused', { status: 400 });
    expect(line).toMatchObject({ level: 30, remote: '127.0.0.1' });
    expect(line!.reason).toMatch(/^malformed request \(HPE_/);
  });

  it('open and close: id, path, remote, version; duration, close codes, who closed, messages and wire bytes each way', async () => {
    const ws = await openWs(`ws://${address}/echo?id=counted`);
    const [opened] = await waitForLog(served, 'connected', { conn: 'counted' });
    expect(opened).toMatchObject({ level: 30, conn: 'counted', path: '/echo', remote: '127.0.0.1', version: 13 });
    expect(opened).not.toHaveProperty('protocol'); // none was chosen
    for (const text of ['hello', 'hello']) {
      const echoed = nextMessage(ws);
      ws.send(text);
      expect((await echoed).data.toString()).toBe(text);
    }
    const done = closed(ws);
    ws.close(1000, 'bye');
    expect((await done).code).toBe(1000);
    const [line] = await waitForLog(served, 'disconnected', { conn: 'counted' });
    expect(line).toMatchObject({
      level: 30,
      path: '/echo',
      remote: '127.0.0.1',
      code: 1000,
      reason: 'bye',
      closeReceived: 1000,
      closeSent: 1000,
      closedBy: 'client',
      messagesIn: 2,
      messagesOut: 2,
      // In: two masked 5-byte frames (2 + 4 + 5) and a masked close with code + 'bye' (2 + 4 + 5).
      bytesIn: 33,
      // Out: two 5-byte frames (2 + 5) and the close echoing the code (2 + 2).
      bytesOut: 18,
    });
    expect(typeof line!.durationMs).toBe('number');
  });

  it('a shutdown closes with 1001: logged as closed by the server', async () => {
    const ws = await openWs(`ws://${address}/echo?id=at-shutdown`);
    await waitForLog(served, 'connected', { conn: 'at-shutdown' });
    const done = closed(ws);
    served.child.kill('SIGTERM');
    expect((await done).code).toBe(1001);
    expect(await served.exit).toBe(0);
    const [line] = await waitForLog(served, 'disconnected', { conn: 'at-shutdown' });
    expect(line).toMatchObject({ closedBy: 'server', closeSent: 1001, closeReceived: 1001, messagesIn: 0, messagesOut: 0 });
  });
});

describe('WebSocketConnectionLog Off', () => {
  it('silences refusals and connections where it applies; a Location with On still logs', async () => {
    const served = serveConfig('off.conf', ['WebSocketConnectionLog Off', ...location('/quiet'), ...location('/loud', '  WebSocketConnectionLog On')]);
    const address = await listeningAddress(served);
    const port = Number(address.split(':')[1]);

    expect((await handshakeStatus(`ws://${address}/nowhere`)).status).toBe(404); // no Location: the main server's Off
    expect((await handshakeStatus(`ws://${address}/quiet`, undefined, { origin: 'http://elsewhere.example' })).status).toBe(403);
    const raw = await RawClient.open(port);
    raw.write('NOT A REQUEST\r\n\r\n');
    expect(await raw.head()).toMatch(/^HTTP\/1\.1 400 /);
    raw.destroy();
    const quiet = await openWs(`ws://${address}/quiet?id=quiet`);
    const quietClosed = closed(quiet);
    quiet.close(1000);
    await quietClosed;

    // /loud's lines come after everything above in the same log stream.
    expect((await handshakeStatus(`ws://${address}/loud`, undefined, { origin: 'http://elsewhere.example' })).status).toBe(403);
    const loud = await openWs(`ws://${address}/loud?id=loud`);
    const loudClosed = closed(loud);
    loud.close(1000);
    await loudClosed;
    await waitForLog(served, 'disconnected', { conn: 'loud' });

    // The connection log only (a supervisor's and its workers' own lines are not at issue here).
    const accessLog = new Set(['handshake refused', 'request refused', 'connected', 'disconnected']);
    const lines = logLines(served).filter((l) => accessLog.has(String(l.msg)));
    expect(lines.map((l) => [l.msg, l.url ?? l.conn])).toEqual([
      ['handshake refused', '/loud'],
      ['connected', 'loud'],
      ['disconnected', 'loud'],
    ]);
  });
});
