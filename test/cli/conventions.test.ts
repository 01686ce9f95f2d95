// Command-line conventions of the real `wsgate` command: version, help, misuse, the config-file rule.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../control/helpers.js';
import { repoRoot } from '../server/config-fixture.js';
import { buildDist, wsgate } from './bin.js';

const version = (JSON.parse(readFileSync(resolve(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const echo = resolve(repoRoot, 'handlers/echo.mjs');

describe('wsgate command-line conventions', { timeout: 60_000 }, () => {
  const tmp = tempDir();
  beforeAll(buildDist, 120_000);
  afterAll(() => tmp.remove());

  it('--version, -v and -V print the version on stdout and exit 0', async () => {
    for (const flag of ['--version', '-v', '-V']) {
      expect(await wsgate([flag]), flag).toEqual({ code: 0, stdout: `wsgate ${version}\n`, stderr: '' });
    }
  });

  it('without arguments prints the usage on stderr and exits 1; --help prints it on stdout and exits 0', async () => {
    const bare = await wsgate([]);
    expect([bare.code, bare.stdout]).toEqual([1, '']);
    expect(bare.stderr).toMatch(/^usage: wsgate COMMAND/);
    const help = await wsgate(['--help']);
    expect([help.code, help.stderr]).toEqual([0, '']);
    expect(help.stdout).toBe(bare.stderr);
    const unknown = await wsgate(['serv']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^wsgate: unknown command 'serv'\nusage: wsgate COMMAND/);
  });

  it('a config file given without -f gets the hint to use -f', async () => {
    for (const verb of ['check', 'serve']) {
      const r = await wsgate([verb, 'my.conf']);
      expect(r.code, verb).toBe(1);
      expect(r.stdout, verb).toBe('');
      expect(r.stderr, verb).toMatch(new RegExp(`^wsgate ${verb}: unexpected argument 'my\\.conf': to read it as the config file, use -f my\\.conf\\nusage: wsgate ${verb} `));
    }
  });

  it('serve and check read ./conf/wsgate.conf by default, else the shipped one, and honour -D', async () => {
    const project = join(tmp.dir, 'project');
    mkdirSync(join(project, 'conf'), { recursive: true });
    writeFileSync(
      join(project, 'conf', 'wsgate.conf'),
      ['Listen 127.0.0.1:0', '<IfDefine BROKEN>', '  WebSocketMaxConnections lots', '</IfDefine>', '<Location /echo>', '  SetHandler websocket-handler', `  WebSocketHandler ${echo}`, '</Location>', ''].join('\n'),
    );
    expect(await wsgate(['check'], { cwd: project })).toEqual({ code: 0, stdout: 'Syntax OK\n', stderr: '' });
    for (const verb of ['check', 'serve']) {
      const broken = await wsgate([verb, '-D', 'BROKEN'], { cwd: project });
      expect(broken.code, verb).toBe(1);
      expect(broken.stderr, verb).toMatch(/^conf\/wsgate\.conf:3:\d+: WebSocketMaxConnections/);
    }
    // No conf/ here: the shipped configuration, which is fine.
    expect(await wsgate(['check'], { cwd: tmp.dir })).toEqual({ code: 0, stdout: 'Syntax OK\n', stderr: '' });
  });
});
