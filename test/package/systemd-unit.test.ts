// conf/systemd/wsgate.service: checked by systemd's own verifier, and its command lines run as
// systemd runs them (ExecStart, then ExecReload with $MAINPID, then the stop signal to the main
// process only, as KillMode=mixed does) against a real gateway. Without systemd as PID 1 that is as
// far as a test can go; the hardening options are weighed by `systemd-analyze security --offline`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../native/helpers.js';
import { runProcess } from '../run-process.js';
import { buildOnce, logLines, startServe, stopAll, waitForLog } from '../server/spawned-serve.js';

const unitPath = join(repoRoot, 'conf/systemd/wsgate.service');
const unitText = readFileSync(unitPath, 'utf8');
/** Where the unit expects `npm install -g wsgate` to have put the command, and its config. */
const installedBin = '/usr/local/bin/wsgate';
const installedConf = '/etc/wsgate/wsgate.conf';

/** [Section] → key → values (a key may repeat); comments and blank lines skipped. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 0) throw new Error(`not a unit file line: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

const service = parseUnit(unitText).get('Service')!;
const one = (key: string): string | undefined => {
  const values = service.get(key);
  expect(values ?? [], `${key}= given more than once`).toHaveLength(values ? 1 : 0);
  return values?.[0];
};

// CI installs systemd (.ci/run) and must not skip; elsewhere a missing tool skips with the reason.
const analyzeMissing = spawnSync('sh', ['-c', 'command -v systemd-analyze']).status !== 0 && process.env.CI !== 'true';

/** The unit as shipped, with ExecStart's command pointed at this checkout (verify wants it to exist). */
function unitForThisCheckout(dir: string, text = unitText): string {
  expect(text.split(installedBin).length - 1, `${installedBin} appears once, in ExecStart`).toBe(1);
  const file = join(dir, 'wsgate.service');
  writeFileSync(file, text.replace(installedBin, join(repoRoot, 'bin/wsgate.js')));
  return file;
}

describe('the systemd unit', () => {
  it('reloads gracefully by SIGHUP, restarts on failure, runs as its own user with /run/wsgate', () => {
    expect(one('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(one('Restart')).toBe('on-failure');
    expect(one('User')).toMatch(/^[a-z][a-z0-9-]*$/);
    expect(one('User')).not.toBe('root');
    expect(service.has('DynamicUser')).toBe(false); // backends join its group to reach the socket
    expect(one('RuntimeDirectory')).toBe('wsgate');
    expect(one('KillMode')).toBe('mixed');
    expect(one('StandardOutput')).toBe('journal');
    expect(one('ExecStart')).toBe(`${installedBin} serve -f ${installedConf}`);
    // V8's JIT writes code, then makes it executable: node does not start under this option.
    expect(service.has('MemoryDenyWriteExecute')).toBe(false);
  });

});

describe.skipIf(analyzeMissing)(`the systemd unit, by systemd-analyze${analyzeMissing ? ' (skipped: systemd-analyze is not installed; Debian package systemd)' : ''}`, () => {
  it('passes systemd-analyze verify with no warning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-unit-'));
    const r = await runProcess('systemd-analyze', ['verify', unitForThisCheckout(dir)], { cwd: dir });
    // verify exits 0 on an unknown key or a bad value ("…, ignoring"): its output must be empty too.
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.code).toBe(0);
  });

  it('the verification above does catch a misspelt option (so its silence means something)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-unit-'));
    const broken = unitText.replace('ProtectSystem=strict', 'ProtectSytem=strict');
    const r = await runProcess('systemd-analyze', ['verify', unitForThisCheckout(dir, broken)], { cwd: dir });
    expect(r.stderr).toContain("Unknown key 'ProtectSytem'");
  });

  it('is hardened: systemd-analyze security rates its exposure OK (2.0 or less of 10)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-unit-'));
    const r = await runProcess('systemd-analyze', ['security', '--offline=true', '--no-pager', unitForThisCheckout(dir)], { cwd: dir });
    const exposure = /Overall exposure level for wsgate\.service: ([\d.]+)/.exec(r.stdout);
    expect(exposure, r.stdout + r.stderr).not.toBeNull();
    expect(Number(exposure![1])).toBeLessThanOrEqual(2);
  });
});

// The reason MemoryDenyWriteExecute stays off, shown: node under the kernel's equivalent.
describe('node under memory-deny-write-execute', () => {
  it('aborts (V8 makes the code it compiled executable), so the unit cannot use MemoryDenyWriteExecute', async (ctx) => {
    if (spawnSync('sh', ['-c', 'command -v cc']).status !== 0 && process.env.CI !== 'true') ctx.skip('no C compiler (gcc)');
    const exe = join(mkdtempSync(join(tmpdir(), 'wsgate-mdwe-')), 'mdwe-exec');
    const cc = spawnSync('cc', ['-Wall', '-Werror', '-o', exe, join(repoRoot, 'test/fixtures/systemd/mdwe-exec.c')], { encoding: 'utf8' });
    expect(cc.status, cc.stderr).toBe(0);
    const plain = await runProcess(exe, ['/bin/sh', '-c', 'echo ran']);
    if (plain.code === 99) ctx.skip(`this kernel has no PR_SET_MDWE (Linux 6.3+): ${plain.stderr.trim()}`);
    expect(plain).toMatchObject({ code: 0, stdout: 'ran\n' }); // a program without a JIT runs under it
    const node = await runProcess(exe, [process.execPath, '-e', 'console.log("ran")']);
    expect(node.stdout).toBe('');
    expect(node.code).not.toBe(0);
  });
});

describe('the unit file command lines, run against a real gateway', () => {
  beforeAll(() => buildOnce());
  afterAll(() => stopAll());

  it('ExecStart serves with JSON logs, ExecReload reloads without dropping clients, the stop signal exits 0', async () => {
    // What systemd sets up first: RuntimeDirectory (owned by the service user, RuntimeDirectoryMode).
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-unit-run-'));
    const runtime = join(dir, 'run-wsgate');
    mkdirSync(runtime, { mode: Number.parseInt(one('RuntimeDirectoryMode') ?? '0755', 8) });
    const conf = join(dir, 'wsgate.conf');
    writeFileSync(
      conf,
      `Listen 127.0.0.1:0\nWebSocketWorkers 1\nWebSocketReloadDeadline 5\n` +
        `WebSocketControlSocket ${runtime}/control.sock 0660\nWebSocketPidFile ${runtime}/wsgate.pid\n` +
        `<Location /echo>\n  SetHandler websocket-handler\n  WebSocketHandler ${join(repoRoot, 'handlers/echo.mjs')}\n</Location>\n`,
    );

    const [command, verb, ...args] = one('ExecStart')!.split(/\s+/);
    expect([command, verb]).toEqual([installedBin, 'serve']);
    const served = startServe(args.map((a) => (a === installedConf ? conf : a)));
    // Once the workers are ready and the control socket listens.
    await waitForLog(served, 'serving');
    const address = logLines(served).find((l) => l.msg === 'listening')!.address as string;
    expect(existsSync(join(runtime, 'control.sock'))).toBe(true);
    expect(readFileSync(join(runtime, 'wsgate.pid'), 'utf8').trim()).toBe(String(served.child.pid));

    const connect = async (): Promise<{ echo: (text: string) => Promise<string>; closed: Promise<number> }> => {
      const client = new WebSocket(`ws://${address}/echo`);
      const closed = new Promise<number>((r) => client.once('close', (code) => r(code)));
      await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
      const echo = (text: string): Promise<string> => {
        const reply = new Promise<string>((r) => client.once('message', (d) => r(d.toString())));
        client.send(text);
        return reply;
      };
      return { echo, closed };
    };
    const old = await connect();
    expect(await old.echo('before reload')).toBe('before reload');

    // ExecReload, with $MAINPID as systemd expands it.
    const [kill, ...killArgs] = one('ExecReload')!.split(/\s+/).map((a) => (a === '$MAINPID' ? String(served.child.pid) : a));
    const reload = await runProcess(kill!, killArgs);
    expect(reload.code).toBe(0);
    await waitForLog(served, 'reloaded: new connections go to the new workers');
    expect(await old.echo('after reload, on the old worker')).toBe('after reload, on the old worker');
    const fresh = await connect();
    expect(await fresh.echo('on the new worker')).toBe('on the new worker');
    expect(served.child.exitCode).toBeNull();

    // systemctl stop with KillMode=mixed: SIGTERM (KillSignal's default) to the main process only.
    expect(one('KillSignal') ?? 'SIGTERM').toBe('SIGTERM');
    served.child.kill('SIGTERM');
    expect(await served.exit).toBe(0);
    expect(await fresh.closed).toBe(1001);
    // The old worker was already draining for the reload (1012, service restart): a clean close either way.
    expect([1001, 1012]).toContain(await old.closed);
    // No worker is left behind for systemd's final SIGKILL, and the pid file is gone.
    const workerPids = logLines(served).filter((l) => l.msg === 'worker ready').map((l) => l.workerPid as number);
    expect(workerPids.length).toBeGreaterThanOrEqual(2); // the first generation and the reloaded one
    for (const pid of workerPids) expect(() => process.kill(pid, 0)).toThrow();
    expect(existsSync(join(runtime, 'wsgate.pid'))).toBe(false);

    // journald gets stdout: every line is one JSON object (pino), nothing pretty-printed.
    const lines = served.stdout.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
  });
});
