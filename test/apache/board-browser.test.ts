// The LAMP story end to end, as a user runs it: headless Chromium loads the message board page from a
// real Apache, which also proxies /board (config written by `wsgate apache`) to a spawned
// `wsgate serve`; a real `php` CLI pushes to the page's id through the control socket, `wsgate ctl`
// broadcasts and closes, and the page shows what arrived (as text, never as HTML) and reconnects —
// also across a restart of `wsgate serve`, while Apache answers 503.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apacheMissing, freePort, startHttpd, type Httpd, boardPageSite } from './httpd.js';
import { repoRoot } from './gateway.js';
import { runProcess } from '../run-process.js';
import { handshakeStatus } from '../server/helpers.js';

const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const hasPhp = spawnSync('php', ['--version']).status === 0;
const missing = apacheMissing ?? (chromiumPath ? undefined : 'chromium is not installed') ?? (hasPhp ? undefined : 'php is not installed');

const wsgateBin = resolve(repoRoot, 'bin/wsgate.js');

const run = (command: string, args: string[]) => runProcess(command, args, { cwd: repoRoot });

async function waitForLine(child: ChildProcess, output: () => string, needle: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (output().includes(needle)) return;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`wsgate serve never logged ${needle}: ${output()}`);
}

describe.skipIf(missing !== undefined)(`message board page in Chromium, behind Apache${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let dir: string;
  let socketPath: string;
  let gateway: ChildProcess;
  let gatewayOutput = '';
  let httpd: Httpd;
  let browser: Browser;
  let page: Page;
  let confPath: string;

  async function startServe(): Promise<void> {
    gatewayOutput = '';
    gateway = spawn(process.execPath, [wsgateBin, 'serve', '-f', confPath], {
      cwd: repoRoot,
      env: { ...process.env, WSGATE_LOG_LEVEL: 'debug' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    gateway.stdout!.on('data', (d: Buffer) => (gatewayOutput += d.toString()));
    gateway.stderr!.on('data', (d: Buffer) => (gatewayOutput += d.toString()));
    await waitForLine(gateway, () => gatewayOutput, '"listening"');
  }

  beforeAll(async () => {
    spawnSync(process.execPath, [resolve(repoRoot, 'scripts/build.mjs'), '--quiet'], { cwd: repoRoot, stdio: 'ignore' });
    dir = mkdtempSync(join(tmpdir(), 'wsgate-board-'));
    socketPath = join(dir, 'control.sock');
    const gatewayPort = await freePort();
    const conf = join(dir, 'wsgate.conf');
    writeFileSync(
      conf,
      [
        `Listen 127.0.0.1:${gatewayPort}`,
        `WebSocketControlSocket ${socketPath}`,
        'RemoteIPHeader X-Forwarded-For',
        'RemoteIPInternalProxy 127.0.0.1',
        '<Location /board>',
        '    SetHandler websocket-handler',
        `    WebSocketHandler ${resolve(repoRoot, 'handlers/board/board.mjs')}`,
        '</Location>',
        '',
      ].join('\n'),
    );
    confPath = conf;
    await startServe();

    // --modules load: the private Apache loads its own modules, even on a Debian host (a2enmod default).
    const generated = await run(process.execPath, [wsgateBin, 'apache', '-f', conf, '--modules', 'load']);
    expect(generated.code, generated.stderr).toBe(0);
    // The page is a static file of the Apache site, beside the generated proxy config.
    httpd = await startHttpd({ body: boardPageSite(dir, repoRoot, generated.stdout) });

    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage();
    await page.goto(httpd.url('/index.html', 'http'));
    await page.locator('#state', { hasText: 'connected' }).waitFor({ timeout: 10_000 });
  }, 60_000);

  // A failure here involves four processes: show what the gateway and Apache said.
  afterEach((context) => {
    if (context.task.result?.state === 'fail') {
      console.log(`wsgate serve output:\n${gatewayOutput.slice(-6000)}\nApache error log:\n${httpd?.errorLog().slice(-3000) ?? ''}`);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await httpd?.stop();
    if (gateway && gateway.exitCode === null) {
      gateway.kill('SIGTERM');
      await new Promise((r) => gateway.once('exit', r));
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function pageId(): Promise<string> {
    const id = (await page.locator('#me').textContent()) ?? '';
    expect(id).toMatch(/^board-[0-9a-f]{16}$/);
    return id;
  }

  it('the page connects through Apache under its random id, with the browser as the remote address', async () => {
    const id = await pageId();
    const list = await run(process.execPath, [wsgateBin, 'ctl', '--socket', socketPath, 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const entries = JSON.parse(list.stdout) as Array<{ id: string; location: string; remoteAddress: string }>;
    expect(entries.find((e) => e.id === id)).toMatchObject({ location: '/board', remoteAddress: '127.0.0.1' });
  });

  it('a PHP push to the id shows as a card, its markup as literal text', async () => {
    const id = await pageId();
    const message = JSON.stringify({ title: 'Hello from PHP', text: '<b>not bold</b>\nsecond line €' });
    const pushed = await run('php', [resolve(repoRoot, 'apache/php/push.php'), socketPath, id, message]);
    expect(pushed).toEqual({ code: 0, stdout: '', stderr: '' });
    const card = page.locator('#messages li', { has: page.locator('h2', { hasText: 'Hello from PHP' }) });
    await card.waitFor({ timeout: 5_000 });
    expect(await card.locator('pre').textContent()).toBe('<b>not bold</b>\nsecond line €');
    expect(await page.locator('#messages b').count()).toBe(0);
  });

  it('`wsgate ctl broadcast` reaches the page', async () => {
    const sent = await run(process.execPath, [wsgateBin, 'ctl', '--socket', socketPath, 'broadcast', '--location', '/board', 'to every board']);
    expect(sent.code, sent.stderr).toBe(0);
    await page.locator('#messages pre', { hasText: 'to every board' }).waitFor({ timeout: 5_000 });
  });

  it('`wsgate ctl close` shows the code and reason; the page reconnects with the same id and pushes work again', async () => {
    const id = await pageId();
    const closed = await run(process.execPath, [wsgateBin, 'ctl', '--socket', socketPath, 'close', id, '4000', 'moved']);
    expect(closed.code, closed.stderr).toBe(0);
    await page.locator('#state', { hasText: 'closed (4000: moved)' }).waitFor({ timeout: 5_000 });
    await page.locator('#state', { hasText: /^connected$/ }).waitFor({ timeout: 10_000 });
    expect(await pageId()).toBe(id);
    const pushed = await run('php', [resolve(repoRoot, 'apache/php/push.php'), socketPath, id, 'after the reconnect']);
    expect(pushed.code, pushed.stderr).toBe(0);
    await page.locator('#messages pre', { hasText: 'after the reconnect' }).waitFor({ timeout: 5_000 });
    if (process.env.WSGATE_SCREENSHOT) await page.screenshot({ path: process.env.WSGATE_SCREENSHOT, fullPage: true });
  }, 30_000);

  it('a gateway restart: the page sees 1001, Apache answers 503 meanwhile, the page comes back by itself', async () => {
    const id = await pageId();
    const stopped = new Promise((r) => gateway.once('exit', r));
    gateway.kill('SIGTERM');
    expect(await stopped).toBe(0);
    await page.locator('#state', { hasText: 'closed (1001: server shutting down)' }).waitFor({ timeout: 5_000 });
    expect((await handshakeStatus(httpd.url('/board?id=probe'))).status).toBe(503);
    await startServe();
    await page.locator('#state', { hasText: /^connected$/ }).waitFor({ timeout: 20_000 });
    const pushed = await run('php', [resolve(repoRoot, 'apache/php/push.php'), socketPath, id, 'after the restart']);
    expect(pushed.code, pushed.stderr).toBe(0);
    await page.locator('#messages pre', { hasText: 'after the restart' }).waitFor({ timeout: 5_000 });
  }, 40_000);
});
