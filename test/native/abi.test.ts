// The header's layout, the loader's checks and its error reporting (code + the directive's loc).
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { beforeAll, describe, expect, test } from 'vitest';
import { WsgateError } from '../../src/errors.js';
import { loadNativeHandler, validateNativePlugin } from '../../src/plugins/native/index.js';
import { defaultSettings } from '../server/config-fixture.js';
import { buildNative, compileFixture, examplePlugin, nativeSpec, repoRoot } from './helpers.js';

const endpoint = { location: '/x', handlerPath: 'x.so', log: pino({ level: 'silent' }), settings: defaultSettings };
let bad: string;

beforeAll(() => {
  buildNative();
  bad = compileFixture('bad');
});

test('websocket_plugin.h matches the ABI layout (static asserts compile)', () => {
  const r = spawnSync('cc', ['-std=c11', '-c', '-Werror', `-I${join(repoRoot, 'handlers/include')}`, '-o', join(tmpdir(), `abi-${process.pid}.o`), join(repoRoot, 'test/fixtures/plugins/abi_layout.c')], {
    encoding: 'utf8',
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});

describe('refused plugins', () => {
  const cases: Array<[string, () => string, string, string, RegExp]> = [
    ['a missing file', () => '/nonexistent/plugin.so', 'x_init', 'PLUGIN_LOAD', /does not exist/],
    ['a file that is not a library', () => notALibrary(), 'x_init', 'PLUGIN_LOAD', /cannot load/],
    ['a missing init symbol', () => bad, 'nope_init', 'PLUGIN_LOAD', /has no function nope_init/],
    ['init returning NULL', () => bad, 'bad_null_init', 'PLUGIN_ABI', /returned NULL/],
    ['version 1', () => bad, 'bad_version_init', 'PLUGIN_ABI', /version 1 is not supported/],
    ['size 32', () => bad, 'bad_size_init', 'PLUGIN_ABI', /size 32 is smaller than 40/],
    ['no on_message', () => bad, 'bad_no_message_init', 'PLUGIN_ABI', /no on_message/],
  ];
  for (const [what, path, init, code, message] of cases) {
    test(`${what}: ${code} at the WebSocketHandler line`, async () => {
      const spec = nativeSpec(path(), init, 42);
      const checked = await validateNativePlugin(spec);
      expect(checked).toBeInstanceOf(WsgateError);
      expect(checked!.code).toBe(code);
      expect(checked!.message).toMatch(message);
      expect(checked!.loc).toEqual(spec.loc);
      expect(checked!.format()).toMatch(/native\.conf:42:3: /);
      const loading = await loadNativeHandler(spec, endpoint).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(loading).toBeInstanceOf(WsgateError);
      expect((loading as WsgateError).code).toBe(code);
      expect((loading as WsgateError).loc).toEqual(spec.loc);
    });
  }
});

test('the example plugins pass validation', async () => {
  expect(await validateNativePlugin(nativeSpec(examplePlugin('echo'), 'echo_init'))).toBeUndefined();
  expect(await validateNativePlugin(nativeSpec(examplePlugin('dumb_increment'), 'dumb_increment_init'))).toBeUndefined();
});

test('build-native fails (non-zero, message) without a C compiler and keeps the built helper', () => {
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts/build-native.mjs'), '--force'], {
    encoding: 'utf8',
    env: { ...process.env, CC: '/nonexistent/cc' },
  });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/\/nonexistent\/cc/);
  buildNative(); // still there (or rebuilt): later tests keep working
});

function notALibrary(): string {
  const path = join(tmpdir(), `not-a-library-${process.pid}.so`);
  writeFileSync(path, 'this is not ELF\n');
  return path;
}

const built = existsSync(join(repoRoot, 'dist/plugins/native/index.js'));

test.skipIf(!built)('`wsgate check` without the helper names the WebSocketHandler line and says why', () => {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin/wsgate.js'), 'check', '-f', join(repoRoot, 'conf/native-echo.conf')], {
    encoding: 'utf8',
    env: { ...process.env, WSGATE_NATIVE_HELPER: '/nonexistent/libwsgate_native.so' },
  });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/native-echo\.conf:\d+:\d+: native plugin support is not built .*install a C compiler/);
});

test.skipIf(!built)('`wsgate check` accepts both example configs', () => {
  for (const conf of ['conf/native-echo.conf', 'conf/native-dumb-increment.conf']) {
    const r = spawnSync(process.execPath, [join(repoRoot, 'bin/wsgate.js'), 'check', '-f', join(repoRoot, conf)], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  }
});
