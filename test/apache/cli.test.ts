// `wsgate apache` as a command: the examples under apache/examples are its output (so they cannot
// drift from the generator), they pass `apache2 -t`, and bad input gives usage errors, not crashes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apache } from '../../src/cli/apache.js';
import { apacheMissing, checkSyntax } from './httpd.js';
import { repoRoot } from './gateway.js';
import { runCommand } from './run-command.js';

const run = (args: string[]) => runCommand(apache, args, repoRoot);

const source = 'apache/examples/wsgate.conf';
const examples = ['proxy', 'wstunnel', 'rewrite'] as const;

describe('wsgate apache (command)', () => {
  for (const style of examples) {
    it(`prints apache/examples/${style}.conf for the example config`, async () => {
      const result = await run(['-f', source, '--style', style]);
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
    expect(result.stdout).toContain('ProxyPass "http://10.1.2.3:9000/echo" upgrade=websocket timeout=90\n');
    expect(result.stdout).toContain('LoadModule proxy_module /usr/lib/apache2/modules/mod_proxy.so');
  });

  it.skipIf(apacheMissing)('loads mod_ssl and turns on SSLProxyEngine for an https backend', async () => {
    const result = await run(['-f', source, '--backend', 'https://gateway.internal:8443']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('LoadModule ssl_module modules/mod_ssl.so');
    expect(result.stdout).toContain('\nSSLProxyEngine On\n');
    expect(result.stdout).toContain('ProxyPass "https://gateway.internal:8443/echo" upgrade=websocket');
    expect(checkSyntax(result.stdout).output).toContain('Syntax OK');
  });

  it('answers bad options with a usage error (exit 1)', async () => {
    for (const args of [['--style', 'tunnel'], ['--timeout', '-3'], ['--backend', 'ftp://x'], ['--bogus']]) {
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
});
