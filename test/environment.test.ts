// Tests that need a system tool skip, with the reason, on a machine without it. Under CI (where
// .ci/run installs them all) a missing tool must fail the run instead of quietly skipping tests.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const onPath = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

const requirements: Array<[string, () => boolean]> = [
  ['apache2 (Debian package apache2)', () => existsSync('/usr/sbin/apache2') && existsSync('/usr/lib/apache2/modules/mod_proxy_wstunnel.so')],
  ['php (php-cli)', () => onPath('php')],
  ['socat', () => onPath('socat')],
  ['chromium', () => existsSync('/usr/bin/chromium')],
  ['systemd-analyze (systemd)', () => onPath('systemd-analyze')],
  ['/bin/kill (procps)', () => existsSync('/bin/kill')],
  ['a C compiler (gcc)', () => onPath('cc')],
  ['APR headers (libapr1-dev)', () => existsSync('/usr/include/apr-1.0/apr_pools.h')],
  ['the native helper built by npm ci', () => existsSync(new URL('../build/libwsgate_native.so', import.meta.url))],
];

describe.runIf(process.env.CI)('CI has every tool the tests need', () => {
  it.each(requirements)('%s', (_name, present) => {
    expect(present()).toBe(true);
  });
});
