// What each command imports before it does anything (start-up time is mostly module loading):
// `ctl` with the channel given loads no config code at all, and nothing loads chevrotain's module
// tree (640 lodash-es files) — the parser takes the single-file build chevrotain ships. Observed
// through a module-load hook in the real `wsgate` process; no timing is asserted here (that is
// bench/startup.bench.mjs's job).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../server/config-fixture.js';
import { runProcess } from '../run-process.js';
import { bin, buildDist } from './bin.js';

// Registers a load hook (it runs on the loader thread) that names every module on stderr.
const hooks = `import { writeSync } from 'node:fs';
export async function load(url, context, next) { writeSync(2, 'IMPORTED ' + url + '\\n'); return next(url, context); }`;
const register = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));`;

/** The module URLs `wsgate ARGS` loaded, and how it exited. */
async function importsOf(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; urls: string[]; stderr: string }> {
  const r = await runProcess(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, bin, ...args], {
    cwd: repoRoot,
    env: { WSGATE_CONTROL_SOCKET: '', WSGATE_CONTROL_URL: '', ...env },
    timeoutMs: 15_000,
  });
  const urls = r.stderr.split('\n').filter((l) => l.startsWith('IMPORTED ')).map((l) => l.slice('IMPORTED '.length));
  return { code: r.code, urls, stderr: r.stderr };
}

const configCode = /\/dist\/config\/(load|grammar|tokens|syntax|chevrotain)\.js$|\/node_modules\/(chevrotain|lodash-es)\//;
const chevrotainTree = /\/node_modules\/(lodash-es|@chevrotain)\/|\/node_modules\/chevrotain\/lib\/src\//;

describe('start-up imports', { timeout: 60_000 }, () => {
  let dir: string;
  let conf: string;
  beforeAll(() => {
    buildDist();
    dir = mkdtempSync(join(tmpdir(), 'wsgate-imports-'));
    conf = join(dir, 'wsgate.conf');
    writeFileSync(conf, `Listen 127.0.0.1:0\nWebSocketControlSocket ${join(dir, 'control.sock')}\n`);
  });

  it('ctl --help and ctl --socket load no config code (and the hook does see the modules)', async () => {
    const help = await importsOf(['ctl', '--help']);
    expect(help.code).toBe(0);
    expect(help.urls.some((u) => u.endsWith('/dist/cli/ctl.js'))).toBe(true);
    expect(help.urls.filter((u) => configCode.test(u))).toEqual([]);

    // Nothing listens there: exit 2, after the command ran as far as connecting.
    const socket = await importsOf(['ctl', '--socket', join(dir, 'control.sock'), 'list']);
    expect(socket.code, socket.stderr).toBe(2);
    expect(socket.urls.some((u) => u.endsWith('/dist/control/client.js'))).toBe(true);
    expect(socket.urls.filter((u) => configCode.test(u))).toEqual([]);

    const fromEnv = await importsOf(['ctl', 'list'], { WSGATE_CONTROL_SOCKET: join(dir, 'control.sock') });
    expect(fromEnv.code, fromEnv.stderr).toBe(2);
    expect(fromEnv.urls.filter((u) => configCode.test(u))).toEqual([]);
  });

  it('ctl -f FILE loads the config parser, from chevrotain’s single-file build', async () => {
    const r = await importsOf(['ctl', '-f', conf, 'list']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.urls.some((u) => u.endsWith('/dist/config/load.js'))).toBe(true);
    expect(r.urls.some((u) => u.endsWith('/node_modules/chevrotain/lib/chevrotain.mjs'))).toBe(true);
    expect(r.urls.filter((u) => chevrotainTree.test(u))).toEqual([]);
  });

  it('check loads chevrotain’s single-file build, not its module tree', async () => {
    const r = await importsOf(['check', '-f', join(repoRoot, 'conf/wsgate.conf')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.urls.some((u) => u.endsWith('/node_modules/chevrotain/lib/chevrotain.mjs'))).toBe(true);
    expect(r.urls.filter((u) => chevrotainTree.test(u))).toEqual([]);
  });
});
