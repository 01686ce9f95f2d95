// Cross-check with the real Apache: for each snippet, `apache2 -t` and wsgate must agree on
// whether the config has an error. (Apache's own directives are not validated by wsgate, so the
// snippets stick to syntax and to the directives wsgate gives meaning to.)
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { hasErrors } from '../../src/config/diagnostics.js';
import { loadConfig } from '../../src/config/load.js';
import { tempTree } from './helpers.js';

const apache = ['apache2', '/usr/sbin/apache2'].find((bin) => spawnSync(bin, ['-v'], { timeout: 10_000 }).status === 0);

const cases: { text: string; error: boolean }[] = [
  { text: '# a comment continued \\\nNotADirectiveAtAll', error: false },
  { text: '<Location "/a>b"> trailing words\nRequire all granted\n</Location>', error: false },
  { text: '<LocationMatch ^/x>y>\n</LocationMatch>', error: false },
  { text: 'KeepAlive On # Apache accepts this one', error: false },
  { text: 'ServerName ${WSGATE_SURELY_UNDEFINED}', error: false },
  { text: '<IfModule mod_not_loaded.c>\nNotADirectiveAtAll\n</IfModule>', error: false },
  { text: '<IfDefine A extra>\n</IfDefine>', error: false },
  { text: 'IncludeOptional empty/*.conf\nIncludeOptional nothing.conf', error: false },
  { text: '<Location /x>', error: true },
  { text: '<Location /x\n</Location>', error: true },
  { text: '</Location>', error: true },
  { text: '<Location /x>\n</Directory>', error: true },
  { text: '<IfModule>\n</IfModule>', error: true },
  { text: '<IfDefine !>\n</IfDefine>', error: true },
  { text: 'Listen 127.0.0.1:1', error: true },
  { text: '<VirtualHost>\n</VirtualHost>', error: true },
  { text: '<VirtualHost *:80>\n<VirtualHost *:81>\n</VirtualHost>\n</VirtualHost>', error: true },
  { text: '<Directory /x>\n<Location /y>\n</Location>\n</Directory>', error: true },
  { text: '<Location /x>\n<Location /y>\n</Location>\n</Location>', error: true },
  { text: '<Location>\n</Location>', error: true },
  { text: '<LocationMatch "(">\n</LocationMatch>', error: true },
  { text: 'Define a:b 1', error: true },
  { text: 'ServerAlias x.test', error: true },
  { text: 'LoadModule x_module', error: true },
  { text: 'UnDefine', error: true },
  { text: 'Include empty/*.conf', error: true },
  { text: 'Include nodir/*.conf', error: true },
  { text: 'Include nothing.conf', error: true },
  // PCRE-only syntax wsgate translates, or only warns about outside WebSocket endpoints.
  { text: '<LocationMatch "^/a++b">\n</LocationMatch>', error: false },
  { text: '<LocationMatch "(?i:^/ws)/[[:digit:]]+">\n</LocationMatch>', error: false },
  { text: '<LocationMatch "(?|a|b)">\n</LocationMatch>', error: false },
  { text: '<LocationMatch "[[:foo:]]">\n</LocationMatch>', error: true },
  { text: '<Location ~ "a**">\n</Location>', error: true },
  // Tag shapes.
  { text: '<Location/x>\n</Location/x>', error: true },
  { text: '<Location/x>\n</Location>', error: true },
  { text: '<Location /x>\n</LOCATION >', error: true },
  { text: '<Location /x>\n</Location>#c', error: true },
  { text: '<Location /x>\n</Location> # c', error: false },
  // mod_remoteip in a virtual host (not in a Location).
  { text: '<VirtualHost *:80>\nRemoteIPHeader X-Forwarded-For\nRemoteIPInternalProxy 10.0.0.0/8\nRemoteIPTrustedProxy 192.168.0.1\n</VirtualHost>', error: false },
  { text: '<Location /x>\nRemoteIPHeader X-Forwarded-For\n</Location>', error: true },
];

describe.skipIf(apache === undefined)('agreement with apache2 -t (skipped: apache2 is not installed)', () => {
  test('every snippet: same verdict as Apache', () => {
    const root = tempTree({ 'empty/.keep': '' });
    mkdirSync(join(root, 'logs'));
    const base = [
      `ServerRoot ${root}`,
      'LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so',
      'LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so',
      'LoadModule remoteip_module /usr/lib/apache2/modules/mod_remoteip.so',
      `ErrorLog ${join(root, 'logs', 'error.log')}`,
      'ServerName localhost',
      'Listen 127.0.0.1:1',
    ].join('\n');
    const verdicts = cases.map(({ text }, i) => {
      const file = join(root, `case${i}.conf`);
      writeFileSync(file, `${base}\n${text}\n`);
      const run = spawnSync(apache!, ['-t', '-f', file], { encoding: 'utf8', timeout: 20_000, env: { PATH: process.env.PATH ?? '' } });
      const ours = hasErrors(loadConfig(file, { env: {} }).diagnostics);
      return { text, apache: run.status !== 0, wsgate: ours };
    });
    expect(verdicts.filter((v) => v.apache !== v.wsgate)).toEqual([]);
    expect(verdicts.map((v) => v.apache)).toEqual(cases.map((c) => c.error));
  });
});
