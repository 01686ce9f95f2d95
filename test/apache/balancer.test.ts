// Several nodes behind one Apache: `wsgate apache --backend A --backend B` writes a
// mod_proxy_balancer; a private Apache runs it in front of two real `wsgate serve` nodes sharing a
// private redis-server. Handshakes spread over both nodes; the board page in headless Chromium,
// wherever it landed, gets a push sent through the OTHER node's control socket.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer, skipRedis } from '../registry/redis-server.js';
import { runProcess } from '../run-process.js';
import { buildOnce, startServe, stopAll, waitForLog } from '../server/spawned-serve.js';
import { repoRoot } from './gateway.js';
import { apacheMissing, checkSyntax, freePort, startHttpd, type Httpd, boardPageSite } from './httpd.js';

const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const missing = apacheMissing ?? (skipRedis ? 'redis-server is not installed' : undefined) ?? (chromiumPath ? undefined : 'chromium is not installed');
const wsgateBin = resolve(repoRoot, 'bin/wsgate.js');
const wsgate = (...args: string[]) => runProcess(process.execPath, [wsgateBin, ...args], { cwd: repoRoot });

describe('wsgate apache with several --backend', () => {
  it.skipIf(apacheMissing !== undefined)('writes one BalancerMember per node, per style, that apache2 -t accepts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-balancer-gen-'));
    const conf = join(dir, 'wsgate.conf');
    writeFileSync(conf, `<Location /echo>\n  SetHandler websocket-handler\n  WebSocketHandler ${join(repoRoot, 'handlers/echo.mjs')}\n</Location>\n`);
    const backends = ['--backend', 'http://10.0.0.1:8080', '--backend', 'http://10.0.0.2:8080'];
    const proxy = await wsgate('apache', '-f', conf, '--modules', 'load', ...backends);
    expect(proxy.code, proxy.stderr).toBe(0);
    expect(proxy.stdout).toContain(
      [
        '<Proxy "balancer://wsgate">',
        '    BalancerMember "http://10.0.0.1:8080" upgrade=websocket timeout=60',
        '    BalancerMember "http://10.0.0.2:8080" upgrade=websocket timeout=60',
        '    ProxySet lbmethod=bybusyness',
        '</Proxy>',
      ].join('\n'),
    );
    expect(proxy.stdout).toContain('RewriteRule "^" "balancer://wsgate%{REQUEST_URI}" [P,L]');
    const wstunnel = await wsgate('apache', '-f', conf, '--modules', 'load', '--style', 'wstunnel', ...backends);
    expect(wstunnel.stdout).toContain('    BalancerMember "ws://10.0.0.2:8080" timeout=60');
    expect(wstunnel.stdout).toContain('ProxyPass "balancer://wsgate/echo"\n');
    for (const generated of [proxy, wstunnel]) {
      const syntax = checkSyntax(generated.stdout);
      expect(syntax.ok, syntax.output).toBe(true);
    }
  });
});

describe.skipIf(missing !== undefined)(`Apache balancer in front of two nodes${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let redis: RedisServer;
  let httpd: Httpd;
  let browser: Browser;
  const sockets: Record<string, string> = {};
  const clients: WebSocket[] = [];

  beforeAll(async () => {
    buildOnce();
    redis = await RedisServer.start();
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-balancer-'));
    const ports: Record<string, number> = {};
    const confs: Record<string, string> = {};
    for (const [node, workers] of [['A', 1], ['B', 0]] as const) {
      ports[node] = await freePort();
      sockets[node] = join(dir, `${node}.sock`);
      confs[node] = join(dir, `${node}.conf`);
      writeFileSync(
        confs[node]!,
        [
          `Listen 127.0.0.1:${ports[node]}`,
          `WebSocketWorkers ${workers}`,
          `WebSocketControlSocket ${sockets[node]}`,
          `WebSocketClusterRedis ${redis.url}`,
          `WebSocketNodeName ${node}`,
          'RemoteIPHeader X-Forwarded-For',
          'RemoteIPInternalProxy 127.0.0.1',
          '<Location /board>',
          '    SetHandler websocket-handler',
          `    WebSocketHandler ${resolve(repoRoot, 'handlers/board/board.mjs')}`,
          '</Location>',
          '',
        ].join('\n'),
      );
      const served = startServe(['-f', confs[node]!]);
      await waitForLog(served, 'cluster bus connected');
      await waitForLog(served, 'listening');
    }
    const generated = await wsgate('apache', '-f', confs.A!, '--modules', 'load', '--backend', `http://127.0.0.1:${ports.A}`, '--backend', `http://127.0.0.1:${ports.B}`);
    expect(generated.code, generated.stderr).toBe(0);
    // The page is a static file of the Apache site, beside the generated proxy config.
    httpd = await startHttpd({ body: boardPageSite(dir, repoRoot, generated.stdout) });
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  }, 90_000);

  afterAll(async () => {
    for (const ws of clients) ws.terminate();
    await browser?.close();
    await httpd?.stop();
    stopAll();
    await redis?.stop();
  });

  async function members(node: string): Promise<Array<{ id: string; member: string }>> {
    const listed = await wsgate('ctl', '--socket', sockets[node]!, 'list', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    return JSON.parse(listed.stdout) as Array<{ id: string; member: string }>;
  }

  it('handshakes through Apache land on both nodes; either node lists them all', async () => {
    for (let i = 0; i < 6; i++) {
      const ws = new WebSocket(httpd.url(`/board?id=spread${i}`));
      clients.push(ws);
      await new Promise((ok, fail) => (ws.once('open', ok), ws.once('error', fail)));
    }
    const listed = (await members('B')).filter((c) => c.id.startsWith('spread'));
    expect(listed).toHaveLength(6);
    expect(new Set(listed.map((c) => c.member.split('/')[0]))).toEqual(new Set(['A', 'B']));
  });

  it('the board page in Chromium gets a push sent through the node it is not connected to', async () => {
    const page = await browser.newPage();
    await page.goto(httpd.url('/index.html', 'http'));
    await page.locator('#state', { hasText: 'connected' }).waitFor({ timeout: 10_000 });
    const id = (await page.locator('#me').textContent()) ?? '';
    const home = (await members('A')).find((c) => c.id === id)?.member.split('/')[0];
    expect(home === 'A' || home === 'B').toBe(true);
    const other = home === 'A' ? 'B' : 'A';
    const message = JSON.stringify({ title: `via node ${other}`, text: 'across the cluster' });
    const sent = await wsgate('ctl', '--socket', sockets[other]!, 'send', id, message);
    expect(sent.code, sent.stderr).toBe(0);
    await page.locator('#messages li', { has: page.locator('h2', { hasText: `via node ${other}` }) }).waitFor({ timeout: 5_000 });
  }, 30_000);
});
