// Real-world configs in the style of mod_websocket's documentation, on three platforms' layouts:
// each has an <IfModule mod_websocket.c> block (/echo, /dumb-increment, and /big with
// MaxMessageSize 67108864) and an <IfModule mod_websocket_draft76.c> block (/echo and
// /dumb-increment with SupportDraft75 On). Every resolved endpoint is compared whole.
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { EndpointConfig, EndpointSettings, GatewayConfig, SourceLocation } from '../../src/config/model.js';
import { defaultEndpointSettings } from '../../src/config/schema.js';
import { fixtureTree } from './helpers.js';

let root = '';
beforeAll(() => {
  root = fixtureTree();
});

interface Layout {
  /** Where each block's <IfModule> line is, and the columns of its <Location> and directive lines. */
  main: { file: string; line: number };
  draft76: { file: string; line: number };
  column: { location: number; directive: number };
  /** Directory of the plugins, absolute (after ServerRoot / sysroot). */
  lib: string;
  init: { echo: string; dumb: string };
}

/** The five endpoints of the documentation's shape, in config order. */
function expectedEndpoints(config: GatewayConfig, l: Layout): EndpointConfig[] {
  const at = (where: { file: string; line: number }, offset: number, column: number): SourceLocation => ({ file: where.file, line: where.line + offset, column });
  const ep = (where: { file: string; line: number }, offset: number, path: string, plugin: 'echo' | 'dumb', settings: Partial<EndpointSettings>): EndpointConfig => ({
    vhost: config.mainServer,
    match: { kind: 'prefix', path },
    handler: {
      kind: 'native',
      path: join(l.lib, plugin === 'echo' ? 'mod_websocket_echo.so' : 'mod_websocket_dumb_increment.so'),
      init: l.init[plugin],
      loc: at(where, offset + 2, l.column.directive),
    },
    settings: { ...defaultEndpointSettings(), ...settings },
    loc: at(where, offset, l.column.location),
  });
  return [
    ep(l.main, 1, '/echo', 'echo', {}),
    ep(l.main, 5, '/dumb-increment', 'dumb', {}),
    ep(l.main, 9, '/big', 'echo', { maxMessageSize: 67108864 }),
    ep(l.draft76, 1, '/echo', 'echo', { supportDraft75: true }),
    ep(l.draft76, 6, '/dumb-increment', 'dumb', { supportDraft75: true }),
  ];
}

describe('fixtures', () => {
  test("mod_websocket's documentation style: ServerRoot is the file's directory, libexec/apache2 paths", () => {
    const file = join(root, 'docs-style', 'httpd.conf');
    const { config, diagnostics } = loadConfig(file, { env: {} });
    expect(diagnostics).toEqual([]);
    expect(config.endpoints).toEqual(
      expectedEndpoints(config, { main: { file, line: 6 }, draft76: { file, line: 22 }, column: { location: 3, directive: 5 }, lib: join(root, 'docs-style/libexec/apache2'), init: { echo: 'echo_init', dumb: 'dumb_increment_init' } }),
    );
    expect(config.endpoints[2]?.settings.maxMessageSize).toBe(67108864);
    expect(config.loadedModules.map((m) => m.name)).toEqual(['websocket_module', 'websocket_draft76_module']);
    expect(config.serverRoot).toBe(join(root, 'docs-style'));
  });

  test('Debian layout: mods-enabled/*.load and *.conf per module, absolute /usr/lib/apache2/modules paths', () => {
    const file = join(root, 'debian', 'etc', 'apache2', 'apache2.conf');
    const { config, diagnostics } = loadConfig(file, { env: { APACHE_PID_FILE: '/run/apache2/apache2.pid' }, sysroot: join(root, 'debian') });
    expect(diagnostics).toEqual([]);
    const conf = (name: string) => join(root, 'debian/etc/apache2/mods-enabled', name);
    expect(config.endpoints).toEqual(
      expectedEndpoints(config, {
        main: { file: conf('websocket.conf'), line: 1 },
        draft76: { file: conf('websocket_draft76.conf'), line: 1 },
        column: { location: 2, directive: 3 }, // tabs
        lib: join(root, 'debian/usr/lib/apache2/modules'),
        init: { echo: 'echo_init', dumb: 'dumb_increment_init' },
      }),
    );
    expect(config.loadedModules.map((m) => [m.name, m.path])).toEqual([
      ['websocket_module', '/usr/lib/apache2/modules/mod_websocket.so'],
      ['websocket_draft76_module', '/usr/lib/apache2/modules/mod_websocket_draft76.so'],
    ]);
    expect(config.listen).toMatchObject([{ host: undefined, port: 8080 }]);
    expect(config.ignored.map((i) => i.name)).toEqual(['PidFile']);
  });

  test('macOS layout: ServerRoot "/usr" with libexec/apache2 relative paths; -D style defines', () => {
    const file = join(root, 'macos', 'private', 'etc', 'apache2', 'httpd.conf');
    const { config, diagnostics } = loadConfig(file, { env: {}, sysroot: join(root, 'macos'), defines: ['WEBSOCKET_DRAFT76'] });
    expect(diagnostics).toEqual([]);
    expect(config.serverRoot).toBe(join(root, 'macos', 'usr'));
    const conf = join(root, 'macos/private/etc/apache2/other/websocket.conf');
    expect(config.endpoints).toEqual(
      expectedEndpoints(config, { main: { file: conf, line: 1 }, draft76: { file: conf, line: 17 }, column: { location: 3, directive: 5 }, lib: join(root, 'macos/usr/libexec/apache2'), init: { echo: 'echo_init', dumb: 'dumb_increment_init' } }),
    );
    expect(config.loadedModules.map((m) => m.path)).toEqual(['libexec/apache2/mod_websocket.so', 'libexec/apache2/mod_websocket_draft76.so']);
    expect(config.listen).toMatchObject([{ host: '127.0.0.1', port: 8080 }]);
  });

  test('Windows-style decorated init names (_echo_init@0) are kept as written; a quoted handler path', () => {
    const file = join(root, 'windows', 'httpd.conf');
    const { config, diagnostics } = loadConfig(file, { env: {} });
    expect(diagnostics).toEqual([]);
    expect(config.endpoints).toEqual(
      expectedEndpoints(config, { main: { file, line: 5 }, draft76: { file, line: 21 }, column: { location: 3, directive: 5 }, lib: join(root, 'windows/modules'), init: { echo: '_echo_init@0', dumb: '_dumb_increment_init@0' } }),
    );
  });

  test('a missing handler file is an error at its path argument, with the resolved path', () => {
    const { diagnostics } = loadConfig(join(root, 'debian', 'etc', 'apache2', 'apache2.conf'), { env: {} });
    const errors = diagnostics.filter((d) => d.severity === 'error');
    const lib = '/usr/lib/apache2/modules';
    expect(errors.map((d) => `${d.loc.file.slice(root.length)}:${d.loc.line}:${d.loc.column} ${d.message}`)).toEqual([
      `/debian/etc/apache2/mods-enabled/websocket.conf:4:20 WebSocketHandler: ${lib}/mod_websocket_echo.so does not exist or is not a file`,
      `/debian/etc/apache2/mods-enabled/websocket.conf:8:20 WebSocketHandler: ${lib}/mod_websocket_dumb_increment.so does not exist or is not a file`,
      `/debian/etc/apache2/mods-enabled/websocket.conf:12:20 WebSocketHandler: ${lib}/mod_websocket_echo.so does not exist or is not a file`,
      `/debian/etc/apache2/mods-enabled/websocket_draft76.conf:4:20 WebSocketHandler: ${lib}/mod_websocket_echo.so does not exist or is not a file`,
      `/debian/etc/apache2/mods-enabled/websocket_draft76.conf:9:20 WebSocketHandler: ${lib}/mod_websocket_dumb_increment.so does not exist or is not a file`,
    ]);
    expect(diagnostics.find((d) => d.severity === 'warning')?.message).toMatch(/APACHE_PID_FILE/);
  });
});
