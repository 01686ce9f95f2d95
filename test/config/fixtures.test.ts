// Real-world configs in the style of mod_websocket's documentation and of three platforms' layouts.
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/model.js';
import { fixtureTree } from './helpers.js';

let root = '';
beforeAll(() => {
  root = fixtureTree();
});

const summary = (c: GatewayConfig) =>
  c.endpoints.map((e) => {
    const h = e.handler;
    const where = e.match.kind === 'prefix' ? e.match.path : e.match.source;
    return `${where} ${h.kind === 'native' ? `${h.path.slice(root.length)} ${h.init}` : h.path} draft75=${e.settings.supportDraft75} max=${e.settings.maxMessageSize}`;
  });

describe('fixtures', () => {
  test("mod_websocket's documentation style: both protocol modules, draft-76 block with SupportDraft75 On", () => {
    const { config, diagnostics } = loadConfig(join(root, 'docs-style', 'httpd.conf'), { env: {} });
    expect(diagnostics).toEqual([]);
    const lib = '/docs-style/libexec/apache2';
    expect(summary(config)).toEqual([
      `/echo ${lib}/mod_websocket_echo.so echo_init draft75=false max=33554432`,
      `/dumb-increment ${lib}/mod_websocket_dumb_increment.so dumb_increment_init draft75=false max=33554432`,
      `/big ${lib}/mod_websocket_echo.so echo_init draft75=false max=67108864`,
      `/echo ${lib}/mod_websocket_echo.so echo_init draft75=true max=33554432`,
      `/dumb-increment ${lib}/mod_websocket_dumb_increment.so dumb_increment_init draft75=true max=33554432`,
    ]);
    expect(config.loadedModules.map((m) => m.name)).toEqual(['websocket_module', 'websocket_draft76_module']);
    expect(config.serverRoot).toBe(join(root, 'docs-style'));
  });

  test('Debian layout: mods-enabled/*.load and *.conf, absolute /usr/lib/apache2/modules paths', () => {
    const file = join(root, 'debian', 'etc', 'apache2', 'apache2.conf');
    const { config, diagnostics } = loadConfig(file, { env: { APACHE_PID_FILE: '/run/apache2/apache2.pid' }, sysroot: join(root, 'debian') });
    expect(diagnostics).toEqual([]);
    const lib = '/debian/usr/lib/apache2/modules';
    expect(summary(config)).toEqual([
      `/echo ${lib}/mod_websocket_echo.so echo_init draft75=false max=33554432`,
      `/dumb-increment ${lib}/mod_websocket_dumb_increment.so dumb_increment_init draft75=false max=33554432`,
      `/echo ${lib}/mod_websocket_echo.so echo_init draft75=true max=33554432`,
    ]);
    expect(config.listen).toMatchObject([{ host: undefined, port: 8080 }]);
    expect(config.endpoints[0]?.loc.file).toBe(join(root, 'debian/etc/apache2/mods-enabled/websocket.conf'));
    expect(config.ignored.map((i) => i.name)).toEqual(['PidFile']);
  });

  test('macOS layout: ServerRoot "/usr" with libexec/apache2 relative paths; -D style defines', () => {
    const file = join(root, 'macos', 'private', 'etc', 'apache2', 'httpd.conf');
    const { config, diagnostics } = loadConfig(file, { env: {}, sysroot: join(root, 'macos'), defines: ['WEBSOCKET_DRAFT76'] });
    expect(diagnostics).toEqual([]);
    expect(config.serverRoot).toBe(join(root, 'macos', 'usr'));
    expect(summary(config)).toEqual([
      '/echo /macos/usr/libexec/apache2/mod_websocket_echo.so echo_init draft75=false max=33554432',
      '/dumb-increment /macos/usr/libexec/apache2/mod_websocket_dumb_increment.so dumb_increment_init draft75=false max=33554432',
    ]);
    expect(config.loadedModules.map((m) => m.path)).toEqual(['libexec/apache2/mod_websocket.so', 'libexec/apache2/mod_websocket_draft76.so']);
    expect(config.listen).toMatchObject([{ host: '127.0.0.1', port: 8080 }]);
  });

  test('Windows-style decorated init names are kept as written', () => {
    const { config, diagnostics } = loadConfig(join(root, 'windows', 'httpd.conf'), { env: {} });
    expect(diagnostics).toEqual([]);
    expect(summary(config)).toEqual([
      '/echo /windows/modules/mod_websocket_echo.dll _echo_init@0 draft75=false max=33554432',
      '/dumb-increment /windows/modules/mod_websocket_dumb_increment.dll _dumb_increment_init@0 draft75=false max=33554432',
    ]);
  });

  test('a missing handler file is an error at the directive, with the resolved path', () => {
    const { diagnostics } = loadConfig(join(root, 'debian', 'etc', 'apache2', 'apache2.conf'), { env: {} });
    const errors = diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => `${d.loc.line}:${d.loc.column} ${d.message}`)).toEqual([
      '4:20 WebSocketHandler: /usr/lib/apache2/modules/mod_websocket_echo.so does not exist or is not a file',
      '8:20 WebSocketHandler: /usr/lib/apache2/modules/mod_websocket_dumb_increment.so does not exist or is not a file',
      '14:20 WebSocketHandler: /usr/lib/apache2/modules/mod_websocket_echo.so does not exist or is not a file',
    ]);
    expect(diagnostics.find((d) => d.severity === 'warning')?.message).toMatch(/APACHE_PID_FILE/);
  });
});
