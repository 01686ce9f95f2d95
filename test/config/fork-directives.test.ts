// The maintained mod_websocket fork's directives (jchampio/apache-websocket 0.1.2+): its
// WebSocketMaxMessageSize is MaxMessageSize under another name, and WebSocketAllowReservedStatusCodes.
// Configs written for the fork must load unchanged.
import { buildDist } from '../build-dist.js';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { renderDirectiveReference } from '../../src/config/docs.js';
import { loadConfig, loadConfigText } from '../../src/config/load.js';
import { defaultEndpointSettings, endpointDirectives, findDirective } from '../../src/config/schema.js';
import { runProcess } from '../run-process.js';
import { brief, fixtureSource, tempTree } from './helpers.js';

const root = tempTree({ 'h/echo.mjs': 'export default {};\n' });
const load = (text: string) => loadConfigText(text, join(root, 'w.conf'), { env: {} });
const errorsOf = (text: string) => brief(load(text).diagnostics);
const ws = (extra = '', path = '/echo') => `<Location ${path}>\nSetHandler websocket-handler\nWebSocketHandler h/echo.mjs\n${extra}</Location>\n`;

describe('WebSocketMaxMessageSize: the same setting as MaxMessageSize', () => {
  test('one schema entry, found under either name, case-insensitively', () => {
    expect(findDirective('WebSocketMaxMessageSize')).toBe(endpointDirectives.maxMessageSize);
    expect(findDirective('websocketmaxmessagesize')).toBe(findDirective('MaxMessageSize'));
    expect(Object.values(endpointDirectives).filter((d) => d.field === 'maxMessageSize')).toHaveLength(1);
  });

  test('either name sets maxMessageSize, in every context, and the later line wins', () => {
    const text = `WebSocketMaxMessageSize 1000\n<VirtualHost *:80>\nMaxMessageSize 2000\n${ws('WebSocketMaxMessageSize 3000\n')}${ws('', '/v')}</VirtualHost>\n${ws('', '/main')}${ws('MaxMessageSize 10\nwebsocketMAXmessagesize 20\n', '/last')}`;
    const { config, diagnostics } = load(text);
    expect(diagnostics).toEqual([]);
    expect(config.endpoints.map((e) => e.settings.maxMessageSize)).toEqual([3000, 2000, 1000, 20]);
    expect(defaultEndpointSettings().maxMessageSize).toBe(33554432);
  });

  test('errors at file:line:col name the directive as it was written', () => {
    expect(errorsOf('WebSocketMaxMessageSize 64M\nMaxMessageSize 64M\nwebsocketmaxmessagesize 0\nWebSocketMaxMessageSize\nWebSocketMaxMessageSize 1 2\n')).toEqual([
      "1:25 error WebSocketMaxMessageSize takes a plain number of bytes, not '64M' (mod_websocket read '64M' as 64 bytes); write 67108864 for 64MiB",
      "2:16 error MaxMessageSize takes a plain number of bytes, not '64M' (mod_websocket read '64M' as 64 bytes); write 67108864 for 64MiB",
      '3:25 error WebSocketMaxMessageSize must be greater than 0',
      '4:1 error WebSocketMaxMessageSize takes one argument (WebSocketMaxMessageSize BYTES), got 0',
      '5:1 error WebSocketMaxMessageSize takes one argument (WebSocketMaxMessageSize BYTES), got 2',
    ]);
    expect(errorsOf('<Directory /x>\nWebSocketMaxMessageSize 5\n</Directory>\n')).toEqual([
      '2:1 error WebSocketMaxMessageSize cannot be used inside <Directory>: wsgate routes requests by URL only, so it belongs in the main server config, <VirtualHost>, <Location>/<LocationMatch>',
    ]);
  });

  test('a misspelling suggests the fork name', () => {
    expect(errorsOf('WebSocketMaxMessageSiz 5\n')).toEqual([
      '1:1 error unknown directive WebSocketMaxMessageSiz (not a mod_websocket or wsgate directive); did you mean WebSocketMaxMessageSize?',
    ]);
  });

  test('the reference documents it once, with both names and their history', () => {
    const doc = renderDirectiveReference();
    const row = doc.split('\n').find((l) => l.startsWith('| `MaxMessageSize BYTES` |')) ?? '';
    expect(row).toContain('The original module (2012) named it MaxMessageSize; the maintained fork renamed it WebSocketMaxMessageSize in 0.1.2.');
    expect(row).toContain('Both names are accepted: `WebSocketMaxMessageSize` is the same setting.');
    expect(row).toMatch(/Control frames count too/);
    expect(doc.match(/^\| `WebSocketMaxMessageSize/gm)).toBeNull();
  });
});

describe('WebSocketAllowReservedStatusCodes', () => {
  test('On|Off per endpoint, default Off, inherited server → vhost → Location', () => {
    expect(defaultEndpointSettings().allowReservedStatusCodes).toBe(false);
    const text = `WebSocketAllowReservedStatusCodes On\n${ws('', '/main')}<VirtualHost *:80>\nWebSocketAllowReservedStatusCodes off\n${ws('', '/v')}${ws('WebSocketAllowReservedStatusCodes ON\n', '/l')}</VirtualHost>\n`;
    const { config, diagnostics } = load(text);
    expect(diagnostics).toEqual([]);
    expect(config.endpoints.map((e) => e.settings.allowReservedStatusCodes)).toEqual([true, false, true]);
    expect(load(ws()).config.endpoints[0]?.settings.allowReservedStatusCodes).toBe(false);
  });

  test('a bad value or argument count is reported at its position', () => {
    expect(errorsOf('WebSocketAllowReservedStatusCodes yes\nWebSocketAllowReservedStatusCodes\n')).toEqual([
      "1:35 error WebSocketAllowReservedStatusCodes must be On or Off, not 'yes'",
      '2:1 error WebSocketAllowReservedStatusCodes takes one argument (WebSocketAllowReservedStatusCodes On|Off), got 0',
    ]);
  });

  test('the reference says what On accepts and what stays refused', () => {
    const row = renderDirectiveReference().split('\n').find((l) => l.startsWith('| `WebSocketAllowReservedStatusCodes On\\|Off` |')) ?? '';
    expect(row).toMatch(/\| Off \|/);
    expect(row).toContain('1005, 1006, 1015');
  });
});

describe('a config in the shape of the fork README (test/fixtures/config/fork)', () => {
  const file = join(fixtureSource, 'fork', 'httpd.conf');
  const repoRoot = resolve(import.meta.dirname, '..', '..');

  beforeAll(() => {
    // `wsgate check` runs from dist/: compile the current sources.
    buildDist();
    expect(existsSync(join(repoRoot, 'dist/cli/main.js'))).toBe(true);
  }, 120_000);

  test('loads with the fork settings and the original module name side by side', () => {
    const { config, diagnostics } = loadConfig(file, { env: {} });
    expect(diagnostics).toEqual([]);
    expect(config.endpoints.map((e) => [e.match, e.settings])).toEqual([
      [
        { kind: 'prefix', path: '/echo' },
        { ...defaultEndpointSettings(), maxMessageSize: 67108864, originCheck: 'trusted', trustedOrigins: ['https://example.com'], allowReservedStatusCodes: true },
      ],
      [{ kind: 'prefix', path: '/legacy' }, { ...defaultEndpointSettings(), maxMessageSize: 1024 }],
    ]);
  });

  test('the wsgate command checks it: "Syntax OK", exit 0; --verbose shows the setting', async () => {
    const bin = join(repoRoot, 'bin', 'wsgate.js');
    const plain = await runProcess(process.execPath, [bin, 'check', '-f', file]);
    expect(plain.stderr).toBe('');
    expect(plain.stdout).toBe('Syntax OK\n');
    expect(plain.code).toBe(0);
    const verbose = await runProcess(process.execPath, [bin, 'check', '-f', file, '--verbose']);
    expect(verbose.code).toBe(0);
    expect(verbose.stdout).toMatch(/ \/echo -> js .*maxMessageSize=67108864 .*origin=trusted .*reservedCloseCodes=on\]/);
    expect(verbose.stdout).toMatch(/ \/legacy -> js .*maxMessageSize=1024 .*reservedCloseCodes=off\]/);
  });
});
