// `wsgate migrate` on a Debian-shaped Apache tree: the wsgate config it writes serves the endpoints,
// the Apache tree with its changed files swapped in passes `apache2 -t`, and the output is stable.
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/cli/migrate.js';
import { loadConfig } from '../../src/config/load.js';
import { hasErrors } from '../../src/config/diagnostics.js';
import { ask, openClient } from './clients.js';
import { runGateway } from './gateway.js';
import { runCommand } from './run-command.js';
import { apacheMissing, checkSyntaxFile, freePort, startHttpdTree } from './httpd.js';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'apache', 'debian');
/** The example C plugins, built by npm ci (the dumb-increment endpoint is a native plugin). */
const pluginDir = join(import.meta.dirname, '..', '..', 'build', 'plugins');
const temps: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-migrate-'));
  temps.push(dir);
  return dir;
};

/** What /etc/apache2/envvars would set, pointed into a temp dir. */
function apacheEnv(dir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    APACHE_RUN_USER: 'www-data',
    APACHE_RUN_GROUP: 'www-data',
    APACHE_PID_FILE: join(dir, 'apache2.pid'),
    APACHE_RUN_DIR: dir,
    APACHE_LOCK_DIR: dir,
    APACHE_LOG_DIR: dir,
    MOD_WEBSOCKET_PLUGINS: pluginDir,
  };
}

const runMigrate = (args: string[], env: NodeJS.ProcessEnv) => runCommand(migrate, args, process.cwd(), env);

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
}

describe('wsgate migrate on a Debian-shaped tree', async () => {
  const work = tempDir();
  const env = apacheEnv(work);
  const port = await freePort();
  const out = join(work, 'out');
  const first = await runMigrate([join(fixture, 'apache2.conf'), '--out', out, '--listen', `127.0.0.1:${port}`], env);

  afterAll(() => {
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  });

  it('finds the endpoints and writes the four outputs', () => {
    expect(first.stderr).toContain('3 endpoint(s)');
    expect(first.code).toBe(0);
    expect(listFiles(out)).toEqual([
      'MIGRATION.md',
      'apache-wsgate.conf',
      'apache/mods-enabled/websocket.conf',
      'apache/mods-enabled/websocket.load',
      'apache/sites-enabled/000-default.conf',
      'wsgate.conf',
    ]);
    expect(first.stdout).toBe(readFileSync(join(out, 'MIGRATION.md'), 'utf8'));
  });

  it('writes the same files for the same tree', async () => {
    const again = join(work, 'again');
    await runMigrate([join(fixture, 'apache2.conf'), '--out', again, '--listen', `127.0.0.1:${port}`], env);
    for (const file of listFiles(out)) expect(readFileSync(join(again, file), 'utf8')).toBe(readFileSync(join(out, file), 'utf8'));
  });

  it('carries handler paths (absolute), MaxMessageSize and SupportDraft75 into a config wsgate loads', () => {
    const { config, diagnostics } = loadConfig(join(out, 'wsgate.conf'), { env });
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const summary = config.endpoints.map((e) => ({
      vhost: e.vhost.serverName ?? 'main',
      match: e.match.kind === 'prefix' ? e.match.path : e.match.source,
      handler: e.handler.kind === 'native' ? `${relative(pluginDir, e.handler.path)} ${e.handler.init}` : relative(fixture, e.handler.path),
      maxMessageSize: e.settings.maxMessageSize,
      supportDraft75: e.settings.supportDraft75,
    }));
    expect(summary).toEqual([
      { vhost: 'main', match: '/ws/chat', handler: 'handlers/echo.mjs', maxMessageSize: 33554432, supportDraft75: false },
      { vhost: 'www.example.com', match: '/echo', handler: 'handlers/echo.mjs', maxMessageSize: 67108864, supportDraft75: true },
      { vhost: 'www.example.com', match: '^/counter/[0-9]+$', handler: 'dumb_increment.so dumb_increment_init', maxMessageSize: 33554432, supportDraft75: false },
    ]);
    expect(config.remoteIp).toEqual({ header: 'X-Forwarded-For', trustedProxies: ['127.0.0.1', '::1'] });
  });

  it('serves the migrated endpoints from the generated wsgate.conf', async () => {
    const { config, diagnostics } = loadConfig(join(out, 'wsgate.conf'), { env });
    expect(hasErrors(diagnostics)).toBe(false);
    const gateway = await runGateway(config, port);
    try {
      const echo = await openClient(`ws://127.0.0.1:${port}/echo`, { headers: { Host: 'www.example.com' } });
      expect(await ask(echo, 'migrated')).toBe('migrated');
      echo.ws.close();
      const chat = await openClient(`ws://127.0.0.1:${port}/ws/chat`);
      expect(await ask(chat, 'server-wide')).toBe('server-wide');
      chat.ws.close();
      const counter = await openClient(`ws://127.0.0.1:${port}/counter/1`, { headers: { Host: 'www.example.com' }, protocols: ['dumb-increment-protocol'] });
      expect(Number(await counter.nextText())).toBeGreaterThanOrEqual(0);
      counter.ws.close();
    } finally {
      await gateway.close();
    }
  });

  it('reports what it could not carry over, with file:line', () => {
    const report = readFileSync(join(out, 'MIGRATION.md'), 'utf8');
    expect(report).toMatch(/- sites-enabled\/000-default\.conf:\d+: `SetHandler websocket-handler` inside <Directory \/var\/www\/html\/legacy-ws>/);
    expect(report).toMatch(/- apache2\.conf:\d+: AllowOverride All for \/var\/www\/: \.htaccess files/);
    expect(report).toMatch(/- sites-enabled\/000-default\.conf:\d+: `Require all granted` stays in Apache/);
  });

  // A copy of the fixture tree with migrate's changed files swapped in.
  const tree = join(work, 'tree');
  cpSync(fixture, tree, { recursive: true, verbatimSymlinks: true });
  cpSync(join(out, 'apache'), tree, { recursive: true });

  it.skipIf(apacheMissing)('gives an Apache tree that passes apache2 -t with the changed files swapped in', () => {
    const untouched = join(work, 'untouched');
    cpSync(fixture, untouched, { recursive: true, verbatimSymlinks: true });
    const before = checkSyntaxFile(join(untouched, 'apache2.conf'), untouched, env);
    // The untouched tree needs mod_websocket.so, which is not installed: the swap is what fixes it.
    expect(before.output).toContain('mod_websocket.so');
    expect(before.ok).toBe(false);
    const after = checkSyntaxFile(join(tree, 'apache2.conf'), tree, env);
    expect(after.output).toContain('Syntax OK');
    const site = readFileSync(join(tree, 'sites-enabled', '000-default.conf'), 'utf8');
    expect(site).toContain(`RewriteRule "^" "http://127.0.0.1:${port}%{REQUEST_URI}" [P,L]`);
    // mod_websocket lines that could not move are left as comments, so Apache accepts the file.
    expect(site.split('\n').filter((l) => /^\s*(SetHandler websocket-handler|WebSocketHandler)/i.test(l))).toEqual([]);
    expect(site).toContain('# wsgate migrate (not migrated, see MIGRATION.md): WebSocketHandler handlers/echo.mjs');
  });

  it.skipIf(apacheMissing)('serves the endpoints through the migrated Apache tree in front of the migrated gateway', async () => {
    // Only the ports change: the tree listens on a private port instead of 80.
    const apachePort = await freePort();
    writeFileSync(join(tree, 'ports.conf'), `Listen 127.0.0.1:${apachePort}\n`);
    const site = join(tree, 'sites-enabled', '000-default.conf');
    writeFileSync(site, readFileSync(site, 'utf8').replace('<VirtualHost *:80>', `<VirtualHost *:${apachePort}>`));
    const { config } = loadConfig(join(out, 'wsgate.conf'), { env });
    const gateway = await runGateway(config, port);
    const httpd = await startHttpdTree({ serverRoot: tree, file: join(tree, 'apache2.conf'), port: apachePort, errorLog: join(work, 'error.log'), env });
    try {
      const echo = await openClient(httpd.url('/echo'), { headers: { Host: 'www.example.com' } });
      expect(await ask(echo, 'through migrated apache')).toBe('through migrated apache');
      const chat = await openClient(httpd.url('/ws/chat'));
      expect(await ask(chat, 'chat')).toBe('chat');
      const counter = await openClient(httpd.url('/counter/7'), { headers: { Host: 'www.example.com' }, protocols: ['dumb-increment-protocol'] });
      const a = Number(await counter.nextText());
      expect(Number(await counter.nextText())).toBe(a + 1);
      // Finished close handshakes end Apache's tunnels, so it stops at once.
      for (const client of [echo, chat, counter]) client.ws.close(1000);
      for (const client of [echo, chat, counter]) expect((await client.closed).code).toBe(1000);
    } finally {
      await httpd.stop();
      await gateway.close();
    }
  });
});
