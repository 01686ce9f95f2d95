// `wsgate check`, run in-process with captured streams.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { check } from '../../src/cli/check.js';
import { defaultConfigFile } from '../../src/config/default-file.js';
import { captureIO, fixtureTree, tempTree } from './helpers.js';

describe('wsgate check', () => {
  test('a clean config: "Syntax OK" on stdout, exit 0; warnings on stderr do not fail', async () => {
    const root = tempTree({ 'conf/wsgate.conf': 'Listen 8080\nServerName ${HOST}\n' });
    const { io, out, err } = captureIO(root);
    expect(await check([], io)).toBe(0);
    expect(out()).toBe('Syntax OK\n');
    expect(err()).toBe(
      'conf/wsgate.conf:2:12: warning: variable ${HOST} is not defined (no Define before this line, not in the environment); the text is kept as is, as Apache does\n' +
        'conf/wsgate.conf: warning: no WebSocket endpoint: no <Location> with SetHandler websocket-handler and WebSocketHandler is in effect (after <IfDefine>/<IfModule>; -D NAME defines); every request would be answered 404\n',
    );
  });

  test('every error as FILE:LINE:COL: message on stderr, exit 1, nothing on stdout', async () => {
    const root = tempTree({ 'bad.conf': 'MaxMessageSize 64M\n<Location /x>\nSetHandler websocket-handler\nWebSocketHandlr a b\n</Location>\n</VirtualHost>\n' });
    const { io, out, err } = captureIO(root);
    expect(await check(['-f', 'bad.conf'], io)).toBe(1);
    expect(out()).toBe('');
    expect(err().split('\n')).toEqual([
      "bad.conf:1:16: MaxMessageSize takes a plain number of bytes, not '64M' (mod_websocket read '64M' as 64 bytes); write 67108864 for 64MiB",
      // no "SetHandler without WebSocketHandler" echo of the misspelling
      'bad.conf:4:1: unknown directive WebSocketHandlr (not a mod_websocket or wsgate directive); did you mean WebSocketHandler?',
      'bad.conf:6:1: </VirtualHost> without matching <VirtualHost> section',
      '',
    ]);
  });

  test('without -f and without ./conf/wsgate.conf: the config shipped with wsgate, as serve uses', async () => {
    const shipped = join(import.meta.dirname, '..', '..', 'conf', 'wsgate.conf');
    expect(defaultConfigFile(tempTree({}))).toBe(shipped);
    const { io, out, err } = captureIO(tempTree({}));
    expect(await check(['--verbose'], io)).toBe(0);
    expect(err()).toBe('');
    // Paths outside the working directory are printed in full: the endpoints come from the shipped file.
    expect(out()).toContain(`  main server /echo -> js ${join(shipped, '..', '..', 'handlers', 'echo.mjs')} [`);
    expect(out().endsWith('Syntax OK\n')).toBe(true);
    const local = tempTree({ 'conf/wsgate.conf': 'Listen 8080\n' });
    expect(defaultConfigFile(local)).toBe(join(local, 'conf', 'wsgate.conf'));
  });

  test('a missing file, and usage errors, exit 1', async () => {
    const root = tempTree({});
    const missing = captureIO(root);
    expect(await check(['-f', 'nope.conf'], missing.io)).toBe(1);
    expect(missing.err()).toBe('nope.conf: cannot read the configuration file: no such file\n');
    const usage = captureIO(root);
    expect(await check(['--bogus'], usage.io)).toBe(1);
    expect(usage.err()).toMatch(/^wsgate check: Unknown option '--bogus'/);
    expect(await check(['stray'], captureIO(root).io)).toBe(1);
  });

  test('--verbose lists endpoints and ignored directives; -D defines; handlers are validated', async () => {
    const root = fixtureTree();
    const cwd = join(root, 'js');
    const { io, out, err } = captureIO(cwd);
    const code = await check(['-f', 'wsgate.conf', '--verbose', '-D', 'EXTRA'], io);
    expect(err()).toBe('');
    expect(code).toBe(0);
    expect(out()).toBe(
      [
        'endpoints (2):',
        '  *:80 (example.test) /echo -> js handlers/echo.mjs [maxMessageSize=33554432 maxConnections=100 sendQueueLimit=16777216 ping=20s origin=same draft75=off reservedCloseCodes=off]',
        '  main server ~ ^/named/(a|b)$ -> js handlers/echo.mjs named [maxMessageSize=33554432 maxConnections=0 sendQueueLimit=16777216 ping=20s origin=same draft75=off reservedCloseCodes=off]',
        'ignored Apache directives (1):',
        '  DocumentRoot at wsgate.conf:19',
        'Syntax OK',
        '',
      ].join('\n'),
    );
  });

  test('handler validation diagnostics are reported like config errors', async () => {
    const root = tempTree({ 'h.mjs': 'export default 42;\n', 'w.conf': '<Location /x>\nSetHandler websocket-handler\nWebSocketHandler h.mjs\n</Location>\n' });
    const { io, out, err } = captureIO(root);
    expect(await check(['-f', 'w.conf'], io)).toBe(1);
    expect(out()).toBe('');
    expect(err()).toMatch(/^w\.conf:3:1: .*h\.mjs.*\n$/);
  });

  test('config errors and handler errors come out in the same run', async () => {
    const root = tempTree({ 'h.mjs': 'export default 42;\n', 'w.conf': 'MaxMessageSize 64M\n<Location /x>\nSetHandler websocket-handler\nWebSocketHandler h.mjs\n</Location>\n' });
    const { io, err } = captureIO(root);
    expect(await check(['-f', 'w.conf'], io)).toBe(1);
    expect(err().trim().split('\n').map((l) => l.split(': ')[0])).toEqual(['w.conf:1:16', 'w.conf:4:1']);
  });
});

const debian = '/etc/apache2/apache2.conf';
const envvars = {
  APACHE_RUN_USER: 'www-data',
  APACHE_RUN_GROUP: 'www-data',
  APACHE_PID_FILE: '/var/run/apache2/apache2.pid',
  APACHE_RUN_DIR: '/var/run/apache2',
  APACHE_LOCK_DIR: '/var/lock/apache2',
  APACHE_LOG_DIR: '/var/log/apache2',
};

describe.skipIf(!existsSync(debian))("Debian's stock apache2.conf (skipped: /etc/apache2 is absent)", () => {
  test('reads without errors when /etc/apache2/envvars variables are set; warns that it serves no WebSocket', async () => {
    const { io, out, err } = captureIO(tmpdir(), envvars);
    expect(await check(['-f', debian], io)).toBe(0);
    expect(out()).toBe('Syntax OK\n');
    expect(err()).toBe(`${debian}: warning: no WebSocket endpoint: no <Location> with SetHandler websocket-handler and WebSocketHandler is in effect (after <IfDefine>/<IfModule>; -D NAME defines); every request would be answered 404\n`);
  });

  test('without them: clear warnings naming each use, still no errors', async () => {
    const { io, out, err } = captureIO(tmpdir(), {});
    expect(await check(['-f', debian], io)).toBe(0);
    expect(out()).toBe('Syntax OK\n');
    const lines = err().trim().split('\n').filter((l) => !l.includes('warning: no WebSocket endpoint'));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^\/etc\/apache2\/\S+:\d+:\d+: warning: variable \$\{APACHE_[A-Z_]+\} is not defined/);
    expect(lines.some((l) => l.startsWith('/etc/apache2/apache2.conf:') && l.includes('${APACHE_RUN_USER}'))).toBe(true);
  });
});
