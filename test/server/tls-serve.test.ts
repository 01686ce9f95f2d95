// wss:// through `bin/wsgate.js serve` as a user runs it: worker processes (the default) terminate
// TLS on the sockets the supervisor hands them; a graceful reload (SIGHUP) re-reads renewed
// certificate files while an old connection stays up; and headless Chromium, trusting the test
// CA's certificate, opens a wss:// connection from a page.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './config-fixture.js';
import { closed, nextMessage, openWs } from './helpers.js';
import { buildOnce, startServe, stopAll, waitForLog, type ServeProcess } from './spawned-serve.js';
import { issue, makeCa, opensslMissing, spkiHash, type CertFiles } from './tls-certs.js';

const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

describe.skipIf(opensslMissing !== undefined)('wss:// with worker processes (wsgate serve)', () => {
  let dir: string;
  let ca: CertFiles;
  let served: ServeProcess;
  let port: number;

  beforeAll(async () => {
    buildOnce();
    dir = mkdtempSync(join(tmpdir(), 'wsgate-tls-serve-'));
    ca = makeCa(dir, 'test-ca');
    issue(dir, ca, 'first', { dns: ['localhost'], ip: ['127.0.0.1'] });
    issue(dir, ca, 'second', { dns: ['localhost'], ip: ['127.0.0.1'] });
    copyFileSync(join(dir, 'first.crt'), join(dir, 'site.crt'));
    copyFileSync(join(dir, 'first.key'), join(dir, 'site.key'));
    writeFileSync(
      join(dir, 'wsgate.conf'),
      [
        'Listen 127.0.0.1:0 https',
        'WebSocketWorkers 2',
        'WebSocketReloadDeadline 30',
        '<VirtualHost *>',
        '  ServerName localhost',
        '  SSLEngine on',
        '  SSLCertificateFile site.crt',
        '  SSLCertificateKeyFile site.key',
        '  <Location /echo>',
        '    SetHandler websocket-handler',
        `    WebSocketHandler ${resolve(repoRoot, 'handlers/echo.mjs')}`,
        '  </Location>',
        '</VirtualHost>',
        '',
      ].join('\n'),
    );
    served = startServe(['-f', join(dir, 'wsgate.conf')]);
    const [line] = await waitForLog(served, 'listening');
    port = Number(/:(\d+)$/.exec(String(line!.address))![1]);
    await waitForLog(served, 'serving');
  });

  afterAll(() => {
    stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const trust = () => ({ ca: readFileSync(ca.cert) });

  function servedCertificate(): Promise<string | undefined> {
    return new Promise((done, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, ...trust() }, () => {
        done(String(socket.getPeerCertificate().subject.CN));
        socket.destroy();
      });
      socket.once('error', reject);
    });
  }

  it('echoes 32 B and 16 KiB over wss:// through a worker', async () => {
    const ws = await openWs(`wss://127.0.0.1:${port}/echo`, undefined, trust());
    for (const size of [32, 16 * 1024]) {
      const payload = Buffer.alloc(size, 0x62);
      ws.send(payload, { binary: true });
      expect(Buffer.compare((await nextMessage(ws)).data, payload)).toBe(0);
    }
    ws.terminate();
  });

  it('SIGHUP re-reads renewed certificate files: a new connection sees the new one, an old connection stays up', async () => {
    expect(await servedCertificate()).toBe('first');
    const old = await openWs(`wss://127.0.0.1:${port}/echo`, undefined, trust());
    copyFileSync(join(dir, 'second.crt'), join(dir, 'site.crt'));
    copyFileSync(join(dir, 'second.key'), join(dir, 'site.key'));
    served.child.kill('SIGHUP');
    await waitForLog(served, 'reloaded: new connections go to the new workers');
    expect(await servedCertificate()).toBe('second');
    old.send('still on the old worker');
    expect((await nextMessage(old)).data.toString()).toBe('still on the old worker');
    old.close(1000);
    expect((await closed(old)).code).toBe(1000);
  });

  it.skipIf(chromiumPath === undefined)('a page in headless Chromium connects over wss:// to the vhost whose certificate it trusts', async () => {
    let browser: Browser | undefined;
    try {
      // Chromium accepts exactly this public key (the served certificate's), as a user who trusted the test CA would.
      browser = await chromium.launch({ executablePath: chromiumPath, args: [`--ignore-certificate-errors-spki-list=${spkiHash(join(dir, 'second.crt'))}`] });
      const page = await browser.newPage();
      // A page of the gateway's own origin (its 426 answer): the Origin check (Same) sees https://localhost:PORT.
      await page.goto(`https://localhost:${port}/echo`);
      const result = await page.evaluate(async (url) => {
        return await new Promise<string>((done) => {
          const ws = new WebSocket(url);
          ws.onopen = () => ws.send('from the page');
          ws.onmessage = (e) => {
            done(`echo: ${String(e.data)}`);
            ws.close();
          };
          ws.onerror = () => done('error');
        });
      }, `wss://localhost:${port}/echo`);
      expect(result).toBe('echo: from the page');
    } finally {
      await browser?.close();
    }
  });
});
