// The whole conformance suite again with `WebSocketPingInterval 1` (issue 14): keepalive pings go
// only to connections idle for a whole interval, so every verdict stays as it is with pings off.
// One child vitest run over the other files of this directory; its failures are printed here.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
// Not this file (it would recurse), nor the one that runs the shipped config through bin/wsgate.js
// (its pings come from the config file, not from the fixture).
const files = readdirSync(here)
  .filter((f) => f.endsWith('.test.ts') && f !== 'keepalive.test.ts' && f !== 'shipped-config.test.ts')
  .map((f) => join('test/conformance', f));

test('the conformance suite with WebSocketPingInterval 1 is as clean as with pings off', { timeout: 600_000 }, () => {
  const run = spawnSync(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--maxWorkers=1', ...files], {
    cwd: root,
    env: { ...process.env, WSGATE_CONFORMANCE_PING_INTERVAL: '1', CI: process.env.CI ?? '' },
    encoding: 'utf8',
    timeout: 590_000,
  });
  const summary = `${run.stdout}\n${run.stderr}`.split('\n').filter((line) => /FAIL|Tests|Test Files|×/.test(line)).join('\n');
  expect(run.status, summary).toBe(0);
});
