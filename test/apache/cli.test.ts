// `wsgate apache` as a command: the examples under apache/examples are its output (so they cannot
// drift from the generator), they pass `apache2 -t`, -D and the default file as for `check`, how
// modules are loaded (LoadModule or a2enmod, detected from mods-available/), and bad input gives
// usage errors, not crashes.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apache } from '../../src/cli/apache.js';
import { shippedConfigFile } from '../../src/config/default-file.js';
import { apacheMissing, checkSyntax } from './httpd.js';
import { repoRoot } from './gateway.js';
import { runCommand } from './run-command.js';

const temp = mkdtempSync(join(tmpdir(), 'wsgate-apache-cli-'));
/** An APACHE_CONFDIR that does not exist: a system without Debian's layout. */
const upstream = { ...process.env, APACHE_CONFDIR: join(temp, 'no-apache2') };
/** A Debian-like APACHE_CONFDIR whose mods-available/*.load name /opt/apache2/mods. */
const debianLike = join(temp, 'apache2');
mkdirSync(join(debianLike, 'mods-available'), { recursive: true });
writeFileSync(join(debianLike, 'mods-available', 'proxy.load'), 'LoadModule proxy_module /opt/apache2/mods/mod_proxy.so\n');
const debian = { ...process.env, APACHE_CONFDIR: debianLike };

const run = (args: string[], env: NodeJS.ProcessEnv = upstream, cwd = repoRoot) => runCommand(apache, args, cwd, env);

afterAll(() => rmSync(temp, { recursive: true, force: true }));

const source = 'apache/examples/wsgate.conf';
const examples = ['proxy', 'wstunnel', 'rewrite'] as const;

describe('wsgate apache (command)', () => {
  for (const style of examples) {
    it(`prints apache/examples/${style}.conf for the example config`, async () => {
      const result = await run(['-f', source, '--style', style, '--modules-dir', 'modules'], debian);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(readFileSync(join(repoRoot, 'apache', 'examples', `${style}.conf`), 'utf8'));
    });

    it.skipIf(apacheMissing)(`apache/examples/${style}.conf passes apache2 -t`, () => {
      const result = checkSyntax(readFileSync(join(repoRoot, 'apache', 'examples', `${style}.conf`), 'utf8'));
      expect(result.output).toContain('Syntax OK');
    });
  }

  it.skipIf(apacheMissing)('apache/example-vhost.conf passes apache2 -t', () => {
    const vhost = readFileSync(join(repoRoot, 'apache', 'example-vhost.conf'), 'utf8');
    const result = checkSyntax(vhost);
    expect(result.output).toContain('Syntax OK');
  });

  it('takes the backend, timeout and module directory from options', async () => {
    const result = await run(['-f', source, '--backend', 'http://10.1.2.3:9000', '--timeout', '90', '--modules-dir', '/usr/lib/apache2/modules']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('<Proxy "http://10.1.2.3:9000/">\n    ProxySet upgrade=websocket timeout=90\n</Proxy>\n');
    expect(result.stdout).toContain('RewriteRule "^" "http://10.1.2.3:9000%{REQUEST_URI}" [P,L]\n');
    expect(result.stdout).toContain('LoadModule proxy_module /usr/lib/apache2/modules/mod_proxy.so');
  });

  it.skipIf(apacheMissing)('loads mod_ssl and turns on SSLProxyEngine for an https backend', async () => {
    const result = await run(['-f', source, '--backend', 'https://gateway.internal:8443']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('LoadModule ssl_module modules/mod_ssl.so');
    expect(result.stdout).toContain('\nSSLProxyEngine On\n');
    expect(result.stdout).toContain('<Proxy "https://gateway.internal:8443/">\n    ProxySet upgrade=websocket');
    expect(checkSyntax(result.stdout).output).toContain('Syntax OK');
  });

  it('answers bad options with a usage error (exit 1)', async () => {
    for (const args of [['--style', 'tunnel'], ['--timeout', '-3'], ['--backend', 'ftp://x'], ['--bogus'], ['--modules', 'auto'], ['--modules', 'a2enmod', '--modules-dir', 'x'], ['-D']]) {
      const result = await run(['-f', source, ...args]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^wsgate apache: /);
      expect(result.stdout).toBe('');
    }
  });

  it('reports config errors with file:line:col and exit 1', async () => {
    const result = await run(['-f', 'test/fixtures/apache/broken.conf']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/broken\.conf:\d+:\d+: /);
    expect(result.stdout).toBe('');
  });

  it('refuses a config without WebSocket endpoints', async () => {
    const result = await run(['-f', 'test/fixtures/apache/no-endpoints.conf']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('has no WebSocket endpoint');
  });

  it('takes -D NAME for <IfDefine>, like check', async () => {
    const file = 'test/fixtures/apache/ifdefine.conf';
    const without = await run(['-f', file]);
    expect(without.code).toBe(1);
    expect(without.stderr).toContain('has no WebSocket endpoint');
    const withBoard = await run(['-f', file, '-D', 'WITH_BOARD']);
    expect(withBoard.code).toBe(0);
    expect(withBoard.stdout).toContain('# WebSocket endpoint /board (ifdefine.conf:8)\n<Location "/board">\n');
  });

  it('reads conf/wsgate.conf of the working directory, else the shipped config (the rule of check and serve)', async () => {
    const elsewhere = join(temp, 'elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    const shipped = await run([], upstream, elsewhere);
    expect(shipped.code).toBe(0);
    expect(shipped.stdout).toContain(`generated by \`wsgate apache\` from ${shippedConfigFile()}.`);
    expect(shipped.stdout).toContain('<Location "/echo">');
    const local = join(temp, 'local');
    mkdirSync(join(local, 'conf'), { recursive: true });
    writeFileSync(join(local, 'conf', 'wsgate.conf'), readFileSync(join(repoRoot, 'test/fixtures/apache/ifdefine.conf'), 'utf8').replace('handlers/probe.mjs', join(repoRoot, 'test/fixtures/apache/handlers/probe.mjs')));
    const fromLocal = await run(['-D', 'WITH_BOARD'], upstream, local);
    expect(fromLocal.code).toBe(0);
    expect(fromLocal.stdout).toContain('from conf/wsgate.conf.');
    expect(fromLocal.stdout).toContain('<Location "/board">');
  });

  it('on a Debian layout (mods-available/) writes no LoadModule and prints the a2enmod command', async () => {
    const result = await run(['-f', source, '--style', 'rewrite'], debian);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/^\s*LoadModule /m);
    expect(result.stdout).toContain('<IfModule !proxy_wstunnel_module>\n    Error "wsgate: mod_proxy_wstunnel is not enabled: run a2enmod proxy proxy_http proxy_wstunnel rewrite headers"\n</IfModule>\n');
    expect(result.stderr).toBe('wsgate apache: the config loads no modules; enable them first: a2enmod proxy proxy_http proxy_wstunnel rewrite headers (or use --modules load)\n');
  });

  it('--modules load forces LoadModule lines from the directory mods-available/*.load name; elsewhere modules/', async () => {
    const forced = await run(['-f', source, '--modules', 'load'], debian);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toBe('');
    expect(forced.stdout).toContain('    LoadModule proxy_module /opt/apache2/mods/mod_proxy.so\n');
    const plain = await run(['-f', source]);
    expect(plain.stdout).toContain('    LoadModule proxy_module modules/mod_proxy.so\n');
    // --modules a2enmod elsewhere: no LoadModule either.
    const a2enmod = await run(['-f', source, '--modules', 'a2enmod']);
    expect(a2enmod.stdout).not.toMatch(/^\s*LoadModule /m);
  });

  it("prefers the directory of the config's own LoadModule lines, as wsgate migrate does", async () => {
    const result = await run(['-f', 'test/fixtures/apache/ifdefine.conf', '-D', 'WITH_BOARD', '--modules', 'load'], debian);
    expect(result.stdout).toContain('    LoadModule proxy_http_module /srv/httpd/modules/mod_proxy_http.so\n');
  });

  it('--help describes every option', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(0);
    for (const option of ['-f, --file', '-D, --define NAME', '--backend', '--style', '--timeout', '--modules MODE', '--modules-dir']) {
      expect(result.stdout).toContain(option);
    }
  });
});
