// A private Apache httpd for tests: own ServerRoot in a temp dir, Listen 127.0.0.1:PORT, own PidFile
// and ErrorLog, started in the foreground and stopped by PID. The system service is never touched.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const apacheBinary = ['/usr/sbin/apache2', '/usr/sbin/httpd'].find((p) => existsSync(p));
export const apacheModules = '/usr/lib/apache2/modules';

/** Why Apache tests cannot run here, or undefined when they can. */
export const apacheMissing: string | undefined =
  apacheBinary === undefined ? 'apache2 is not installed' : existsSync(apacheModules) ? undefined : `${apacheModules} is missing`;

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A temp ServerRoot whose `modules` links to the system's modules (the upstream layout). */
export function makeServerRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-httpd-'));
  symlinkSync(apacheModules, join(dir, 'modules'));
  return dir;
}

export interface HttpdOptions {
  /** Directives after the base config (modules, Listen, logs). */
  body: string;
  /** Apache's `Timeout`. Default 10. */
  timeout?: number;
  /** Listen port; default a free one. */
  port?: number;
}

/** Run as root, Apache switches its children to `User`; without one it picks uid -1 and complains. */
function userLines(): string[] {
  if (process.getuid?.() !== 0) return [];
  const passwd = existsSync('/etc/passwd') ? readFileSync('/etc/passwd', 'utf8') : '';
  const user = ['www-data', 'daemon', 'nobody'].find((name) => passwd.includes(`\n${name}:`));
  return user ? [`User ${user}`, `Group #${passwd.split(`\n${user}:`)[1]?.split(':')[2] ?? '-1'}`] : [];
}

function baseConfig(dir: string, port: number, timeout: number): string {
  return [
    ...userLines(),
    `ServerRoot "${dir}"`,
    `DefaultRuntimeDir "${dir}"`,
    `PidFile "${dir}/httpd.pid"`,
    `ErrorLog "${dir}/error.log"`,
    'LogLevel warn',
    `Listen 127.0.0.1:${port}`,
    'ServerName 127.0.0.1',
    `Timeout ${timeout}`,
    'LoadModule mpm_event_module modules/mod_mpm_event.so',
    'LoadModule authz_core_module modules/mod_authz_core.so',
    // Small and predictable on a 2-core machine; enough threads for one socket per test connection.
    'StartServers 1',
    'ServerLimit 2',
    'ThreadsPerChild 32',
    'MaxRequestWorkers 64',
    'MinSpareThreads 8',
    'MaxSpareThreads 64',
    '',
  ].join('\n');
}

export interface SyntaxResult {
  ok: boolean;
  output: string;
}

/** `apache2 -t` on the base config followed by `body`. */
export function checkSyntax(body: string): SyntaxResult {
  const dir = makeServerRoot();
  try {
    const file = join(dir, 'httpd.conf');
    writeFileSync(file, baseConfig(dir, 9, 10) + body);
    return checkSyntaxFile(file, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function checkSyntaxFile(file: string, serverRoot?: string, env: NodeJS.ProcessEnv = process.env): SyntaxResult {
  const args = [...(serverRoot ? ['-d', serverRoot] : []), '-t', '-f', file];
  const r = spawnSync(apacheBinary ?? 'apache2', args, { encoding: 'utf8', timeout: 10_000, env });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

export interface Httpd {
  port: number;
  dir: string;
  url(path: string, scheme?: 'ws' | 'http'): string;
  errorLog(): string;
  stop(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`apache2 exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('apache2 did not start listening within the deadline');
}

export async function startHttpd(options: HttpdOptions): Promise<Httpd> {
  const dir = makeServerRoot();
  const port = options.port ?? (await freePort());
  const file = join(dir, 'httpd.conf');
  writeFileSync(file, baseConfig(dir, port, options.timeout ?? 10) + options.body);
  return startHttpdTree({ serverRoot: dir, file, port, errorLog: join(dir, 'error.log'), removeOnStop: true });
}

export interface HttpdTree {
  serverRoot: string;
  file: string;
  /** The port the tree listens on (127.0.0.1). */
  port: number;
  errorLog: string;
  env?: NodeJS.ProcessEnv;
  /** Delete serverRoot after stopping. */
  removeOnStop?: boolean;
}

/** Starts `apache2 -d ROOT -f FILE -DFOREGROUND` on an existing tree (after `apache2 -t`). */
export async function startHttpdTree(tree: HttpdTree): Promise<Httpd> {
  const { serverRoot: dir, file, port } = tree;
  const env = tree.env ?? process.env;
  const syntax = checkSyntaxFile(file, dir, env);
  if (!syntax.ok) throw new Error(`Apache config is invalid:\n${syntax.output}`);
  // Its own process group: if the parent ignores SIGTERM, SIGKILL reaches its children too.
  const child = spawn(apacheBinary ?? 'apache2', ['-d', dir, '-f', file, '-DFOREGROUND'], { stdio: ['ignore', 'ignore', 'pipe'], env, detached: true });
  const kill = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const errorLog = (): string => (existsSync(tree.errorLog) ? readFileSync(tree.errorLog, 'utf8') : '') + stderr;
  try {
    await waitForPort(port, child, Date.now() + 10_000);
  } catch (err) {
    kill();
    throw new Error(`${(err as Error).message}\n${errorLog()}`);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    port,
    dir,
    url: (path, scheme = 'ws') => `${scheme}://127.0.0.1:${port}${path}`,
    errorLog,
    async stop() {
      if (child.exitCode === null && child.pid !== undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(kill, 5_000);
        await exited;
        clearTimeout(timer);
      }
      if (tree.removeOnStop) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The message board's page as a static file of an Apache site under DIR/www (readable by Apache's
 *  children, which run as www-data), and the httpd.conf lines that serve it with `extra` after them. */
export function boardPageSite(dir: string, repoRoot: string, extra: string): string {
  const www = join(dir, 'www');
  mkdirSync(www);
  copyFileSync(resolve(repoRoot, 'handlers/board/index.html'), join(www, 'index.html'));
  for (const path of [dir, www]) chmodSync(path, 0o755);
  chmodSync(join(www, 'index.html'), 0o644);
  return [
    'LoadModule mime_module modules/mod_mime.so',
    'TypesConfig /etc/mime.types',
    'AddType "text/html; charset=utf-8" .html',
    `DocumentRoot "${www}"`,
    `<Directory "${www}">`,
    '    Require all granted',
    '</Directory>',
    extra,
  ].join('\n');
}

