// wsgate_handler_errors_total counts every throw and rejected promise of a handler callback where it
// is caught, by Location and callback: a real `wsgate serve` with 2 worker processes (so the counts
// cross the worker → supervisor channel and are summed), one Location per failing callback (and a
// C plugin whose failure the native adapter reports), a scripted workload, then one scrape that
// must show exactly those counts and no other series.
import { join } from 'node:path';
import type WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFixture, repoRoot } from '../native/helpers.js';
import { closed, handshakeStatus, nextMessage, openWs } from '../server/helpers.js';
import { stopAll, waitForLog, type ServeProcess } from '../server/spawned-serve.js';
import { httpGet, samples, serveForMetrics } from './scrape.js';

const fixture = join(repoRoot, 'test/fixtures/handlers/handler-errors.mjs');
const LOCATIONS: Record<string, string> = {
  '/connect-throws': 'connectThrows',
  '/connect-rejects': 'connectRejects',
  '/message-throws': 'messageThrows',
  '/message-rejects': 'messageRejects',
  '/read-start': 'readStartThrows',
  '/read-end': 'readEndThrows',
  '/released': 'releasedThrows',
  '/closing': 'closingThrows',
  '/disconnect-throws': 'disconnectThrows',
  '/disconnect-rejects': 'disconnectRejects',
  '/echo': 'echo',
};

/** `probe`: the probe C plugin, which selects the subprotocol named in X-Choose. */
function config(probe: string): string {
  const block = (path: string, handler: string): string => `<Location ${path}>\n  SetHandler websocket-handler\n  WebSocketHandler ${handler}\n</Location>`;
  const blocks = Object.entries(LOCATIONS).map(([path, name]) => block(path, `${fixture} ${name}`));
  blocks.push(block('/native', `${probe} probe_init`));
  return `Listen 127.0.0.1:0\nWebSocketWorkers 2\nWebSocketMetricsListen 127.0.0.1:0\n${blocks.join('\n')}\n`;
}

/** The wsgate_handler_errors_total samples of a scrape: { '{labels}': value }. */
function handlerErrors(text: string): Record<string, number> {
  const name = 'wsgate_handler_errors_total';
  return Object.fromEntries([...samples(text)].filter(([key]) => key.startsWith(`${name}{`)).map(([key, value]) => [key.slice(name.length), value]));
}

/** Sends one message and returns the close code the server answers with. */
async function sendAndClosed(ws: WebSocket): Promise<number> {
  const done = closed(ws);
  ws.send('x');
  return (await done).code;
}

/** Closes from the client side with 1000 and waits for the close handshake to finish. */
async function closeNormally(ws: WebSocket): Promise<number> {
  const done = closed(ws);
  ws.close(1000);
  return (await done).code;
}

describe('handler errors counted where they are caught, over 2 workers', { timeout: 60_000 }, () => {
  let served: ServeProcess;
  let ws: string;
  let metricsAt: string;

  beforeAll(async () => {
    const probe = compileFixture('probe');
    const gateway = await serveForMetrics('handler-errors', () => config(probe));
    ({ served, ws } = gateway);
    metricsAt = gateway.metricsAt!;
  });
  afterAll(() => stopAll());

  it('counts each callback’s throws and rejections exactly, by Location and callback', async () => {
    // onConnect: 2 throws and 1 rejection, each answered 500.
    expect((await handshakeStatus(`${ws}/connect-throws`)).status).toBe(500);
    expect((await handshakeStatus(`${ws}/connect-throws`)).status).toBe(500);
    expect((await handshakeStatus(`${ws}/connect-rejects`)).status).toBe(500);
    // A C plugin that accepts but selects a subprotocol the client did not offer: the adapter's
    // onConnect fails (500).
    expect((await handshakeStatus(`${ws}/native`, ['chat'], { headers: { 'X-Choose': 'superchat' } })).status).toBe(500);
    // onMessage: 2 clients whose one message throws, 1 whose message's promise rejects: 1011 each.
    for (const path of ['/message-throws', '/message-throws', '/message-rejects']) {
      expect(await sendAndClosed(await openWs(`${ws}${path}`))).toBe(1011);
    }
    // Read hooks: the first read of each connection throws: 1011.
    expect(await sendAndClosed(await openWs(`${ws}/read-start`))).toBe(1011);
    expect(await sendAndClosed(await openWs(`${ws}/read-end`))).toBe(1011);
    expect(await sendAndClosed(await openWs(`${ws}/released`))).toBe(1011);
    // onClosing throws when the client's close arrives: the close handshake still completes.
    expect(await closeNormally(await openWs(`${ws}/closing`))).toBe(1000);
    // onDisconnect: a throw, and a rejection (the client just drops TCP).
    expect(await closeNormally(await openWs(`${ws}/disconnect-throws`))).toBe(1000);
    const dropped = await openWs(`${ws}/disconnect-rejects`);
    dropped.terminate();
    await waitForLog(served, 'onDisconnect failed', {}, 2);
    // A handler that never fails: no series for its Location.
    const echo = await openWs(`${ws}/echo`);
    const reply = nextMessage(echo);
    echo.send('hello');
    expect((await reply).data.toString()).toBe('hello');
    expect(await closeNormally(echo)).toBe(1000);
    // Every connection that got its 101 has ended (onDisconnect runs right after this line).
    await waitForLog(served, 'disconnected', {}, 10);

    const res = await httpGet(metricsAt, '/metrics');
    expect(res.status).toBe(200);
    expect(handlerErrors(res.body)).toEqual({
      '{location="/connect-throws",callback="onConnect"}': 2,
      '{location="/connect-rejects",callback="onConnect"}': 1,
      '{location="/native",callback="onConnect"}': 1,
      '{location="/message-throws",callback="onMessage"}': 2,
      '{location="/message-rejects",callback="onMessage"}': 1,
      '{location="/read-start",callback="onReadStart"}': 1,
      '{location="/read-end",callback="onReadEnd"}': 1,
      '{location="/released",callback="releasedMessages"}': 1,
      '{location="/closing",callback="onClosing"}': 1,
      '{location="/disconnect-throws",callback="onDisconnect"}': 1,
      '{location="/disconnect-rejects",callback="onDisconnect"}': 1,
    });
  });
});
