// The message board: its handler (rooms, push-only) on a real gateway, and its page (self-contained).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { repoRoot } from '../server/config-fixture.js';
import { handshakeStatus } from '../server/helpers.js';
import { converse } from './helpers.js';
import { startLiveGateway, type LiveGateway } from './live-gateway.js';

describe('message board', () => {
  let live: LiveGateway;
  beforeAll(async () => {
    live = await startLiveGateway();
  });
  afterAll(() => live?.close());

  it('puts ?room=NAME connections in that group and refuses bad room names', async () => {
    const a = await live.client('/board', '&room=lobby');
    const answer = await converse(live.socketPath, `INFO ${a.id}\n`, 2);
    expect(JSON.parse(answer[1]!).groups).toEqual(['lobby']);
    const wsBase = `ws://127.0.0.1:${live.gw.addresses[0]!.port}`;
    expect((await handshakeStatus(`${wsBase}/board?id=x1&room=no%20spaces`)).status).toBe(403);
    a.inbox.ws.close();
  });

  it('answers what a page sends with an error message (the board is push-only)', async () => {
    const a = await live.client('/board');
    a.inbox.ws.send('hello?');
    expect(JSON.parse(await a.inbox.nextText())).toEqual({ type: 'error', text: 'this board only receives messages' });
    a.inbox.ws.close();
  });

  it('the page loads nothing from elsewhere and connects with a random id', () => {
    const html = readFileSync(resolve(repoRoot, 'handlers/board/index.html'), 'utf8');
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)=/i);
    expect(html).not.toMatch(/@import|[^A-Za-z]url\(/); // CSS url(), not new URL()
    expect(html).toMatch(/crypto\.getRandomValues/);
    expect(html).toMatch(/searchParams\.set\('id', id\)/);
    // Pushed text is shown with textContent, never parsed as HTML.
    expect(html).not.toMatch(/innerHTML|insertAdjacentHTML|document\.write/);
  });

  it('board.conf, included from conf/, declares the endpoint and the control socket', () => {
    const { config, diagnostics } = loadConfigText('Include ../handlers/board/board.conf\n', resolve(repoRoot, 'conf/board-test.conf'));
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const board = config.endpoints.find((e) => e.match.kind === 'prefix' && e.match.path === '/board');
    expect(board?.handler.path).toBe(resolve(repoRoot, 'handlers/board/board.mjs'));
    expect(config.control.socket).toMatchObject({ path: '/run/wsgate/control.sock', mode: 0o660 });
  });
});
