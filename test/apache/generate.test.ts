// Golden tests for `wsgate apache`: each style, virtual hosts, LocationMatch, a TLS vhost; every
// output must also pass `apache2 -t`.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backendFromListen, parseBackend } from '../../src/apache/backend.js';
import { generateApacheConfig, type ApacheGenerateOptions } from '../../src/apache/generate.js';
import { ModuleLoading } from '../../src/apache/modules.js';
import { ProxyStyle } from '../../src/apache/style.js';
import type { GatewayConfig } from '../../src/config/model.js';
import { apacheMissing, checkSyntax } from './httpd.js';
import { gatewayConfig, mainServer, prefixEndpoint, regexEndpoint, vhost } from './model.js';

const goldenDir = join(import.meta.dirname, '..', 'fixtures', 'apache', 'golden');
const update = process.env.WSGATE_UPDATE_GOLDEN === '1';

/** The gateway side as behind Apache: X-Forwarded-For trusted from Apache's address. */
function behindApache(config: GatewayConfig): GatewayConfig {
  return { ...config, remoteIp: { header: 'X-Forwarded-For', trustedProxies: ['127.0.0.1'] } };
}

function mixedConfig(): GatewayConfig {
  const main = mainServer();
  const site = vhost(['*:80'], 'chat.example.com', 10, { serverAliases: ['www.chat.example.com'] });
  const secure = vhost(['*:443'], 'secure.example.com', 30, { tls: true });
  return gatewayConfig([
    prefixEndpoint(main, '/echo', 4),
    prefixEndpoint(site, '/dumb-increment', 12, { maxConnections: 100 }),
    regexEndpoint(site, '^/rooms/[a-z0-9-]+$', 18, { maxConnections: 50 }),
    prefixEndpoint(secure, '/secure "quoted"', 32, { maxConnections: 10 }),
  ]);
}

const cases: Array<{ name: string; config: () => GatewayConfig; options: ApacheGenerateOptions }> = [
  { name: 'proxy', config: mixedConfig, options: {} },
  { name: 'wstunnel', config: mixedConfig, options: { style: ProxyStyle.Wstunnel } },
  { name: 'rewrite', config: mixedConfig, options: { style: ProxyStyle.Rewrite } },
  {
    name: 'debian-modules-backend',
    config: () => gatewayConfig([prefixEndpoint(mainServer(), '/echo', 4, { pingInterval: 0 })]),
    options: { modulesDir: '/usr/lib/apache2/modules', backend: parseBackend('http://[::1]:9000') },
  },
  // No LoadModule lines; Error lines instead, which `apache2 -t` passes once the modules are loaded.
  { name: 'a2enmod', config: mixedConfig, options: { moduleLoading: ModuleLoading.A2enmod } },
];

/** What a2enmod would have enabled: the base test config plus the LoadModule form of the same output. */
function withModulesLoaded(text: string, options: ApacheGenerateOptions): string {
  if (options.moduleLoading !== ModuleLoading.A2enmod) return text;
  const loaded = generateApacheConfig(mixedConfig(), { ...options, moduleLoading: ModuleLoading.Load }).text;
  const modulePart = loaded.slice(loaded.indexOf('\n# Modules'), loaded.indexOf('\n\n', loaded.indexOf('\n# Modules') + 1));
  return `${modulePart}\n${text}`;
}

describe('wsgate apache generator', () => {
  for (const c of cases) {
    it(`matches the golden output: ${c.name}`, () => {
      const { text } = generateApacheConfig(c.config(), { sourceName: 'wsgate.conf', ...c.options });
      const file = join(goldenDir, `${c.name}.conf`);
      if (update) {
        mkdirSync(goldenDir, { recursive: true });
        writeFileSync(file, text);
      }
      expect(text).toBe(readFileSync(file, 'utf8'));
    });

    it.skipIf(apacheMissing)(`passes apache2 -t: ${c.name}`, () => {
      const { text } = generateApacheConfig(c.config(), c.options);
      const result = checkSyntax(withModulesLoaded(text, c.options));
      expect(result.output).toContain('Syntax OK');
      expect(result.ok).toBe(true);
    });
  }

  it('is stable: the same input gives the same bytes', () => {
    expect(generateApacheConfig(mixedConfig()).text).toBe(generateApacheConfig(mixedConfig()).text);
  });

  it('sends only WebSocket handshakes to the gateway, from the endpoint\'s own section (Location or LocationMatch)', () => {
    const { text } = generateApacheConfig(mixedConfig());
    const handshakeOnly = (indent: string, origin: string) =>
      [`RewriteEngine On`, `RewriteCond "%{HTTP:Upgrade}" "websocket" [NC]`, `RewriteRule "^" "${origin}%{REQUEST_URI}" [P,L]`].map((l) => `${indent}${l}\n`).join('');
    expect(text).toContain(`<Location "/echo">\n    ProxyPreserveHost On\n${handshakeOnly('    ', 'http://127.0.0.1:8080')}`);
    expect(text).toContain(`<LocationMatch "^/rooms/[a-z0-9-]+$">\n        ProxyPreserveHost On\n${handshakeOnly('        ', 'http://127.0.0.1:8080')}`);
    // mod_dir stays away from handshakes only.
    expect(text).toContain('<If "%{HTTP:Upgrade} =~ /websocket/i">\n            DirectorySlash Off\n            DirectoryCheckHandler On\n');
    expect(text).not.toMatch(/^\s*ProxyPass /m);
    // wstunnel keeps ProxyPass: mod_proxy_wstunnel itself leaves requests without Upgrade to Apache.
    const wstunnel = generateApacheConfig(mixedConfig(), { style: ProxyStyle.Wstunnel }).text;
    expect(wstunnel).toContain('<Location "/echo">\n    ProxyPreserveHost On\n    ProxyPass "ws://127.0.0.1:8080/echo" timeout=60\n');
    expect(wstunnel).toContain('<LocationMatch "^/rooms/[a-z0-9-]+$">\n        ProxyPreserveHost On\n        ProxyPass "ws://127.0.0.1:8080" timeout=60\n');
  });

  it('with a2enmod loads nothing and stops apache2 -t with the a2enmod command when a module is missing', () => {
    const result = generateApacheConfig(mixedConfig(), { moduleLoading: ModuleLoading.A2enmod });
    expect(result.text).not.toContain('LoadModule');
    expect(result.modules.map((m) => m.name)).toEqual(['proxy_module', 'proxy_http_module', 'rewrite_module', 'headers_module']);
    expect(result.text).toContain('<IfModule !rewrite_module>\n    Error "wsgate: mod_rewrite is not enabled: run a2enmod proxy proxy_http rewrite headers"\n</IfModule>\n');
  });

  it.skipIf(apacheMissing)('an a2enmod config without the modules fails apache2 -t with that message', () => {
    const result = checkSyntax(generateApacheConfig(mixedConfig(), { moduleLoading: ModuleLoading.A2enmod }).text);
    expect(result.ok).toBe(false);
    expect(result.output).toContain('wsgate: mod_proxy is not enabled: run a2enmod proxy proxy_http rewrite headers');
  });

  it('adds X-Forwarded-Proto only in the TLS vhost and loads mod_headers for it', () => {
    const { text } = generateApacheConfig(mixedConfig());
    expect(text.match(/RequestHeader set X-Forwarded-Proto "https"/g)).toHaveLength(1);
    const secureBlock = text.slice(text.indexOf('<VirtualHost *:443>'));
    expect(secureBlock).toContain('X-Forwarded-Proto');
    expect(text).toContain('<IfModule !headers_module>');
    const plain = generateApacheConfig(gatewayConfig([prefixEndpoint(mainServer(), '/echo', 4)])).text;
    expect(plain).not.toContain('headers_module');
  });

  it('sets the proxy timeout above the ping interval on its own ProxyPass lines (never ProxyTimeout) and warns when pings are off or too rare', () => {
    const pinging = gatewayConfig([prefixEndpoint(mainServer(), '/a', 4, { pingInterval: 7 }), prefixEndpoint(mainServer(), '/b', 9, { pingInterval: 20 })]);
    const result = generateApacheConfig(behindApache(pinging));
    // One worker for the gateway, used by the [P] requests of every endpoint.
    expect(result.text).toContain('<Proxy "http://127.0.0.1:8080/">\n    ProxySet upgrade=websocket timeout=40\n</Proxy>\n');
    expect(result.text).not.toMatch(/^\s*ProxyTimeout /m);
    expect(result.warnings).toEqual([]);
    const rewrite = generateApacheConfig(pinging, { style: ProxyStyle.Rewrite }).text;
    expect(rewrite).toContain('<Proxy "ws://127.0.0.1:8080/">\n    ProxySet timeout=40\n</Proxy>\n');
    expect(rewrite).not.toMatch(/^\s*ProxyTimeout /m);
    const wstunnel = generateApacheConfig(pinging, { style: ProxyStyle.Wstunnel }).text;
    expect(wstunnel).toContain('ProxyPass "ws://127.0.0.1:8080/a" timeout=40\n');
    expect(wstunnel).toContain('ProxyPass "ws://127.0.0.1:8080/b" timeout=40\n');

    const silent = generateApacheConfig(behindApache(gatewayConfig([prefixEndpoint(mainServer(), '/quiet', 4, { pingInterval: 0 })])));
    expect(silent.warnings).toEqual([expect.stringContaining('pings are off for /quiet (wsgate.conf:4)')]);
    expect(silent.text).toContain('# WARNING: pings are off');

    const tooShort = generateApacheConfig(behindApache(pinging), { timeout: 20 });
    expect(tooShort.text).toContain('ProxySet upgrade=websocket timeout=20\n');
    expect(tooShort.warnings).toEqual([expect.stringContaining('not greater than the ping interval 20 s of /b')]);
  });

  it('warns when the gateway does not trust X-Forwarded-For from Apache', () => {
    const config = gatewayConfig([prefixEndpoint(mainServer(), '/echo', 4)]);
    expect(generateApacheConfig(config).warnings).toEqual([expect.stringContaining('has no RemoteIPHeader X-Forwarded-For + RemoteIPInternalProxy')]);
    expect(generateApacheConfig(behindApache(config)).warnings).toEqual([]);
  });

  it('takes the backend from the first Listen, mapping wildcards to loopback', () => {
    expect(backendFromListen([{ host: undefined, port: 8081, loc: undefined }]).http).toBe('http://127.0.0.1:8081');
    expect(backendFromListen([{ host: '::', port: 8082, loc: undefined }]).ws).toBe('ws://[::1]:8082');
    expect(backendFromListen([{ host: '10.0.0.5', port: 80, loc: undefined }]).http).toBe('http://10.0.0.5:80');
    expect(backendFromListen([]).http).toBe('http://127.0.0.1:8080');
    expect(parseBackend('wss://gw.internal:8443').http).toBe('https://gw.internal:8443');
    expect(() => parseBackend('ftp://x')).toThrow(/scheme/);
    expect(() => parseBackend('http://x:1/path')).toThrow(/path/);
    expect(() => parseBackend('not a url')).toThrow(/not a URL/);
  });

  it('sums WebSocketMaxConnections in the capacity note when every endpoint sets it', () => {
    const limited = gatewayConfig([prefixEndpoint(mainServer(), '/a', 4, { maxConnections: 30 }), prefixEndpoint(mainServer(), '/b', 9, { maxConnections: 12 })]);
    expect(generateApacheConfig(limited).text).toContain('at most 42 sockets in total');
    expect(generateApacheConfig(mixedConfig()).text).toContain('set no WebSocketMaxConnections');
  });
});
