// The message board page in headless Chromium, straight against a spawned `wsgate serve` (no Apache):
// loaded from another origin it is refused by WebSocketOriginCheck Same, which a browser only sees
// as 1006 — the page must say what to check and stop retrying; opened from file:// on a Location
// with the check off (the README's try-out) it connects, and a close code from the backend is shown
// with its reason.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess } from '../run-process.js';
import { repoRoot } from './config-fixture.js';
import { buildOnce, listeningAddress, logLines, startServe, stopAll, waitForLog, type ServeProcess } from './spawned-serve.js';

const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const missing = chromiumPath ? undefined : 'chromium is not installed';
const boardPage = resolve(repoRoot, 'handlers/board/index.html');
const boardHandler = resolve(repoRoot, 'handlers/board/board.mjs');

describe.skipIf(missing !== undefined && process.env.CI !== 'true')(`board page refused by the origin check, in Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let tmp: string;
  let socketPath: string;
  let served: ServeProcess;
  let gateway: string;
  let otherOrigin: Server;
  let otherPort: number;
  let browser: Browser;

  beforeAll(async () => {
    buildOnce();
    tmp = mkdtempSync(join(tmpdir(), 'wsgate-board-refusal-'));
    socketPath = join(tmp, 'control.sock');
    const conf = join(tmp, 'wsgate.conf');
    writeFileSync(
      conf,
      [
        'Listen 127.0.0.1:0',
        `WebSocketControlSocket ${socketPath}`,
        '<Location /board>',
        '  SetHandler websocket-handler',
        `  WebSocketHandler ${boardHandler}`,
        '</Location>',
        '<Location /open-board>',
        '  SetHandler websocket-handler',
        `  WebSocketHandler ${boardHandler}`,
        '  WebSocketOriginCheck Off',
        '</Location>',
        '',
      ].join('\n'),
    );
    served = startServe(['-f', conf]);
    gateway = await listeningAddress(served);
    // The page on an origin of its own (another port), as a site or a developer's static server would serve it.
    otherOrigin = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(readFileSync(boardPage));
    });
    await new Promise<void>((r) => otherOrigin.listen(0, '127.0.0.1', r));
    otherPort = (otherOrigin.address() as { port: number }).port;
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    otherOrigin?.close();
    stopAll();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const refusals = (): number => logLines(served).filter((l) => l.msg === 'handshake refused' && l.url?.toString().startsWith('/board?')).length;

  it('from another origin: the hint about the origin check, three attempts, then no more until Retry', async () => {
    const page: Page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${otherPort}/index.html?ws=ws://${gateway}/board`);
    const problem = page.locator('#problem');
    await problem.locator('button#retry').waitFor({ state: 'visible', timeout: 15_000 });
    const text = (await problem.locator('#problem-text').textContent()) ?? '';
    expect(text).toContain('The gateway refused the connection or could not be reached — check its log');
    expect(text).toContain('is refused by WebSocketOriginCheck Same');
    expect(text).toContain('Gave up after 3 attempts.');
    expect(await page.locator('#state').textContent()).toBe('not connected');
    // The gateway logged each refusal with the reason the page cannot see.
    const logged = await waitForLog(served, 'handshake refused', { status: 403, origin: `http://127.0.0.1:${otherPort}` }, 3);
    expect(logged[0]!.reason).toBe(`origin http://127.0.0.1:${otherPort} is not allowed here`);
    expect(refusals()).toBe(3);
    // A fourth attempt would have come 4 s after the third: none does.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(refusals()).toBe(3);

    await problem.locator('button#retry').click();
    await waitForLog(served, 'handshake refused', { status: 403 }, 4);
    await page.close();
  }, 40_000);

  it("from file:// on a Location with WebSocketOriginCheck Off: connects; a backend's 1008 is shown with its reason", async () => {
    const page = await browser.newPage();
    await page.goto(`${pathToFileURL(boardPage).href}?ws=ws://${gateway}/open-board`);
    await page.locator('#state', { hasText: /^connected$/ }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#problem').isHidden()).toBe(true);
    const id = (await page.locator('#me').textContent()) ?? '';
    const closed = await runProcess(process.execPath, [resolve(repoRoot, 'bin/wsgate.js'), 'ctl', '--socket', socketPath, 'close', id, '1008', 'not on this board']);
    expect(closed.code, closed.stderr).toBe(0);
    await page.locator('#problem-text', { hasText: 'The gateway closed the connection: 1008 (policy violation: not on this board).' }).waitFor({ timeout: 5_000 });
    await page.locator('#messages li', { hasText: 'disconnected: 1008 (policy violation: not on this board); retrying in 1 s' }).waitFor({ timeout: 5_000 });
    // It was connected before: it comes back by itself, and the notice goes away.
    await page.locator('#state', { hasText: /^connected$/ }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#problem').isHidden()).toBe(true);
    await page.close();
  }, 30_000);
});
