// `wsgate migrate` on a config written for the maintained mod_websocket fork (apache-websocket
// 0.1.2+, test/fixtures/config/fork): WebSocketMaxMessageSize, WebSocketOriginCheck,
// WebSocketTrustedOrigin and WebSocketAllowReservedStatusCodes keep their meaning in wsgate.conf,
// and none of them is left in the Apache files, which would refuse them without the module.
import { mkdtempSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateApacheTree } from '../../src/apache/migrate/index.js';
import { loadConfig } from '../../src/config/load.js';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'config', 'fork');
const work = mkdtempSync(join(tmpdir(), 'wsgate-migrate-fork-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('wsgate migrate: a fork-style config', () => {
  const result = migrateApacheTree(join(fixture, 'httpd.conf'), { sourceName: 'httpd.conf' });
  const conf = result.files.get('wsgate.conf') ?? '';

  it('carries every fork directive, under the name it was written with', () => {
    expect(result.endpoints).toHaveLength(2);
    expect(conf).toContain(
      [
        '<Location /echo>',
        '    SetHandler websocket-handler',
        `    WebSocketHandler ${join(fixture, 'handlers/echo.mjs')}`,
        '    WebSocketMaxMessageSize 67108864',
        '    WebSocketOriginCheck Trusted',
        '    WebSocketTrustedOrigin https://example.com',
        '    WebSocketAllowReservedStatusCodes On',
        '</Location>',
      ].join('\n'),
    );
    expect(conf).toContain('    MaxMessageSize 1024\n</Location>');
    expect(result.report).not.toMatch(/not carried over/);
  });

  it('the written wsgate.conf means what the fork config meant', () => {
    const written = join(work, 'wsgate.conf');
    writeFileSync(written, conf);
    const migrated = loadConfig(written, { env: {} });
    const original = loadConfig(join(fixture, 'httpd.conf'), { env: {} });
    expect(migrated.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const settings = (c: typeof migrated) => c.config.endpoints.map((e) => [e.match, e.settings]);
    expect(settings(migrated)).toEqual(settings(original));
    expect(migrated.config.endpoints[0]?.settings).toMatchObject({ maxMessageSize: 67108864, originCheck: 'trusted', trustedOrigins: ['https://example.com'], allowReservedStatusCodes: true });
    expect(result.endpoints.map((e) => e.config.settings.allowReservedStatusCodes)).toEqual([true, false]);
  });

  it('fork directives outside a WebSocket <Location> are commented out in Apache and reported', () => {
    const tree = join(work, 'tree');
    cpSync(fixture, tree, { recursive: true });
    const main = join(tree, 'httpd.conf');
    writeFileSync(main, `WebSocketMaxMessageSize 4096\nWebSocketAllowReservedStatusCodes On\n<Location /status>\n  WebSocketOriginCheck Off\n</Location>\nInclude ${join(fixture, 'httpd.conf')}\n`);
    const stray = migrateApacheTree(main, { sourceName: 'httpd.conf' });
    const apache = stray.files.get('apache/httpd.conf') ?? '';
    for (const line of ['WebSocketMaxMessageSize 4096', 'WebSocketAllowReservedStatusCodes On', 'WebSocketOriginCheck Off']) {
      expect(apache).toContain(`# wsgate migrate (not migrated, see MIGRATION.md): ${line}`);
      expect(stray.report).toContain(`\`${line}\` outside a WebSocket <Location>: commented out in Apache`);
    }
  });
});
