// The package as a user gets it: `npm pack`, `npm i ./wsgate-*.tgz` into an empty project, then
// `npx wsgate serve` and a TypeScript handler type-checked against `import type { Handler } from 'wsgate'`.
// Installing needs the npm registry for wsgate's dependencies (reachable in CI).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDist } from '../cli/bin.js';
import { repoRoot } from '../server/config-fixture.js';
import { closed, nextMessage, openWs } from '../server/helpers.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const hasCompiler = spawnSync('cc', ['--version']).status === 0;

/** The environment without npm's own variables: `npm test` sets npm_config_* for its scripts, which must not steer the nested installs. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

function run(command: string, args: string[], cwd: string, timeout = 180_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(command, args, { cwd, env: cleanEnv(), encoding: 'utf8', timeout });
  return { status: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

describe('the npm package, installed from its tarball', { timeout: 120_000 }, () => {
  let tmp: string;
  let project: string;
  let tarball: string;
  let packed: string[];
  let install: { status: number | null; stdout: string; stderr: string };
  const children: ChildProcess[] = [];

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'wsgate-package-'));
    // dist/ from the current sources; the pack itself skips its prepack build so that dist/ is not
    // rewritten while other test files run the command from it.
    buildDist();
    const pack = run(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], repoRoot);
    expect(pack.status, pack.stderr).toBe(0);
    const [info] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
    tarball = join(tmp, info.filename);
    packed = info.files.map((f) => f.path);
    project = join(tmp, 'project');
    mkdirSync(project);
    // The user's answer for the three install scripts (npm 11's allowScripts policy, see README):
    // wsgate's and koffi's run; bufferutil's is not needed (its prebuilt binary loads without it).
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'uses-wsgate', version: '1.0.0', private: true, type: 'module', allowScripts: { [`file:${tarball}`]: true, koffi: true, bufferutil: false } }),
    );
    install = run(npm, ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], project);
  }, 300_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  });

  it('ships dist/ with its types, the C sources, handlers, conf, bin and the build script, and no tests', () => {
    for (const file of [
      'bin/wsgate.js',
      'dist/cli/main.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/plugins/types.d.ts',
      'scripts/build.mjs',
      'scripts/build-native.mjs',
      'src/plugins/native/wsgate_native.c',
      'src/plugins/native/request_rec.c',
      'src/plugins/native/httpd_shim.c',
      'src/plugins/native/httpd_shim.h',
      'dist/cli/worker-entry.js',
      'handlers/include/websocket_plugin.h',
      'handlers/c/echo.c',
      'handlers/echo.mjs',
      'conf/wsgate.conf',
      'conf/systemd/wsgate.service',
    ]) {
      expect(packed, file).toContain(file);
    }
    expect(packed.filter((p) => p.startsWith('test/') || p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
  });

  it('installs with the install scripts approved and no TypeScript compiler in the package', () => {
    expect(install.status, install.stderr).toBe(0);
    expect(install.stderr).not.toContain('not yet covered by allowScripts');
    const installed = join(project, 'node_modules', 'wsgate');
    expect(existsSync(join(installed, 'src', 'index.ts'))).toBe(false);
    expect(existsSync(join(installed, 'dist', 'cli', 'main.js'))).toBe(true);
    // The install script built the native helper from the shipped C sources.
    if (hasCompiler) expect(existsSync(join(installed, 'build', 'libwsgate_native.so'))).toBe(true);
  });

  it('runs `npx wsgate serve`: a JS handler and the C echo plugin answer', async () => {
    writeFileSync(
      join(project, 'gateway.conf'),
      [
        'Listen 127.0.0.1:0',
        '<Location /echo>',
        '  SetHandler websocket-handler',
        '  WebSocketHandler node_modules/wsgate/handlers/echo.mjs',
        '</Location>',
        ...(hasCompiler
          ? ['<Location /native>', '  SetHandler websocket-handler', '  WebSocketHandler node_modules/wsgate/build/plugins/echo.so echo_init', '</Location>']
          : []),
        '',
      ].join('\n'),
    );
    // Its own process group, so npx and the gateway under it are both reaped.
    const child = spawn('npx', ['--no-install', 'wsgate', 'serve', '-f', 'gateway.conf'], {
      cwd: project,
      env: cleanEnv({ WSGATE_LOG_LEVEL: 'info' }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const deadline = Date.now() + 20_000;
    let listening: string | undefined;
    while (!listening && Date.now() < deadline && child.exitCode === null) {
      listening = stdout.split('\n').find((l) => l.includes('"listening"'));
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(listening, `stdout=${stdout} stderr=${stderr}`).toBeDefined();
    const address = (JSON.parse(listening!) as { address: string }).address;
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);

    for (const path of hasCompiler ? ['/echo', '/native'] : ['/echo']) {
      const ws = await openWs(`ws://${address}${path}`);
      ws.send(`hello ${path}`);
      expect((await nextMessage(ws)).data.toString()).toBe(`hello ${path}`);
      ws.close(1000);
      await closed(ws);
    }
    // SIGTERM reaches npx and the gateway (one process group); the gateway shuts down cleanly.
    process.kill(-child.pid!, 'SIGTERM');
    await exit;
    const deadlineStop = Date.now() + 10_000;
    while (!stdout.includes('"stopped"') && Date.now() < deadlineStop) await new Promise((r) => setTimeout(r, 50));
    expect(stdout).toContain('"stopped"');
  }, 60_000);

  it("type-checks a TypeScript handler against `import type { Handler } from 'wsgate'`", () => {
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          // @types/node from the repository, so the project needs nothing else from the registry.
          typeRoots: [resolve(repoRoot, 'node_modules', '@types')],
          types: ['node'],
        },
        include: ['handler.ts'],
      }),
    );
    writeFileSync(
      join(project, 'handler.ts'),
      [
        "import type { Handler, HandlerFactory } from 'wsgate';",
        'const echo: Handler = { onMessage(conn, data, isBinary) { conn.send(data, isBinary); } };',
        'export const factory: HandlerFactory = (gateway) => ({ onConnect: () => gateway.local().length < 100 });',
        'export default echo;',
        '',
      ].join('\n'),
    );
    const good = run(process.execPath, [tsc, '--noEmit', '-p', '.'], project);
    expect(good.status, `${good.stdout}${good.stderr}`).toBe(0);

    // The types are real: a misuse of the connection is an error, not `any`.
    writeFileSync(join(project, 'handler.ts'), "import type { Handler } from 'wsgate';\nexport default { onMessage(conn) { conn.sendd('x'); } } satisfies Handler;\n");
    const bad = run(process.execPath, [tsc, '--noEmit', '-p', '.'], project);
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/handler\.ts\(2,\d+\): error TS2551: Property 'sendd' does not exist/);
  });
});
