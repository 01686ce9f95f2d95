// The Debian/Ubuntu recipe of README.md and apache/README-apache.md, run as literally as a test can:
// on a private copy of this machine's /etc/apache2 (its apache2.conf, mods-/conf-/sites-enabled),
// with the real a2enmod, a2enconf and apache2ctl pointed at the copy by APACHE_CONFDIR (their own
// variable). /etc/apache2 itself is never touched. Then that Apache serves the board layout.
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apache } from '../../src/cli/apache.js';
import { ask, openClient } from './clients.js';
import { configFor, jsEndpoint, repoRoot, runGateway } from './gateway.js';
import { apacheMissing, freePort, startHttpdTree, type Httpd } from './httpd.js';
import { runCommand } from './run-command.js';

const tools = ['/usr/sbin/a2enmod', '/usr/sbin/a2enconf', '/usr/sbin/apache2ctl', '/etc/apache2/apache2.conf'];
const missing = apacheMissing ?? tools.find((t) => !existsSync(t));
const boardHandler = join(repoRoot, 'handlers', 'board', 'board.mjs');
const page = '<!doctype html><title>board</title><p>the board page</p>\n';

interface DebianCopy {
  root: string;
  /** The copy of /etc/apache2 (APACHE_CONFDIR). */
  conf: string;
  www: string;
  port: number;
  env: NodeJS.ProcessEnv;
}

/** /etc/apache2 copied, with what an admin's site would have: its port, a DocumentRoot holding
 *  board/index.html. Runtime, lock and log directories are moved into the temp dir. */
async function copyDebianApache(): Promise<DebianCopy> {
  const root = mkdtempSync(join(tmpdir(), 'wsgate-debian-'));
  const conf = join(root, 'apache2');
  cpSync('/etc/apache2', conf, { recursive: true, verbatimSymlinks: true });
  const dirs = { APACHE_RUN_DIR: join(root, 'run'), APACHE_LOCK_DIR: join(root, 'lock'), APACHE_LOG_DIR: join(root, 'log') };
  for (const dir of Object.values(dirs)) mkdirSync(dir);
  const vars = { ...dirs, APACHE_PID_FILE: join(root, 'run', 'apache2.pid') };
  appendFileSync(join(conf, 'envvars'), Object.entries(vars).map(([k, v]) => `export ${k}=${v}\n`).join(''));
  const port = await freePort();
  writeFileSync(join(conf, 'ports.conf'), `Listen 127.0.0.1:${port}\n`);
  const www = join(root, 'www');
  mkdirSync(join(www, 'board'), { recursive: true });
  writeFileSync(join(www, 'board', 'index.html'), page);
  for (const dir of [root, www, join(www, 'board')]) chmodSync(dir, 0o755);
  const site = readFileSync(join(conf, 'sites-available', '000-default.conf'), 'utf8')
    .replace('<VirtualHost *:80>', `<VirtualHost *:${port}>`)
    .replace(/DocumentRoot \S+/, `DocumentRoot ${www}\n\t<Directory ${www}>\n\t\tRequire all granted\n\t</Directory>`);
  writeFileSync(join(conf, 'sites-available', '000-default.conf'), site);
  const env = {
    ...process.env,
    ...vars,
    APACHE_CONFDIR: conf,
    APACHE_STATE_DIRECTORY: join(root, 'state'),
    APACHE_RUN_USER: 'www-data',
    APACHE_RUN_GROUP: 'www-data',
  };
  return { root, conf, www, port, env };
}

function sh(copy: DebianCopy, command: string, args: string[]): { ok: boolean; output: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', env: copy.env, timeout: 20_000 });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

function writeGatewayConf(dir: string, gatewayPort: number): string {
  const file = join(dir, 'wsgate.conf');
  const lines = [
    `Listen 127.0.0.1:${gatewayPort}`,
    'RemoteIPHeader X-Forwarded-For',
    'RemoteIPInternalProxy 127.0.0.1',
    '<Location /board>',
    '    SetHandler websocket-handler',
    `    WebSocketHandler ${boardHandler}`,
    '</Location>',
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe.skipIf(missing)("the Debian recipe on a copy of this machine's /etc/apache2", () => {
  let copy: DebianCopy;
  let gateway: Awaited<ReturnType<typeof runGateway>>;
  let httpd: Httpd | undefined;

  beforeAll(async () => {
    copy = await copyDebianApache();
    gateway = await runGateway(configFor([jsEndpoint('/board', boardHandler)]));
  });

  afterAll(async () => {
    await httpd?.stop();
    await gateway?.close();
    if (copy) rmSync(copy.root, { recursive: true, force: true });
  });

  it('wsgate apache > conf-available/wsgate.conf; a2enmod (as printed); a2enconf wsgate; apache2ctl configtest', async () => {
    // npx wsgate apache -f /etc/wsgate/wsgate.conf > /etc/apache2/conf-available/wsgate.conf
    const generated = await runCommand(apache, ['-f', writeGatewayConf(copy.root, gateway.port)], copy.root, copy.env);
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stdout).not.toMatch(/^\s*LoadModule /m);
    writeFileSync(join(copy.conf, 'conf-available', 'wsgate.conf'), generated.stdout);
    const a2enmod = /enable them first: (a2enmod [a-z_]+(?: [a-z_]+)*)/.exec(generated.stderr)?.[1];
    expect(a2enmod).toBe('a2enmod proxy proxy_http rewrite');

    // a2enconf before a2enmod: configtest names the missing module and the command.
    expect(sh(copy, '/usr/sbin/a2enconf', ['wsgate']).ok).toBe(true);
    const early = sh(copy, '/usr/sbin/apache2ctl', ['configtest']);
    expect(early.ok).toBe(false);
    expect(early.output).toContain('wsgate: mod_proxy is not enabled: run a2enmod proxy proxy_http rewrite');

    const [command, ...modules] = (a2enmod ?? '').split(' ');
    const enabled = sh(copy, `/usr/sbin/${command}`, modules);
    expect(enabled.ok, enabled.output).toBe(true);
    const test = sh(copy, '/usr/sbin/apache2ctl', ['configtest']);
    expect(test.output).toContain('Syntax OK');
    expect(test.ok).toBe(true);
  });

  it('that Apache serves the page at /board/ and the WebSocket at /board through the gateway', async () => {
    httpd = await startHttpdTree({ serverRoot: copy.conf, file: join(copy.conf, 'apache2.conf'), port: copy.port, errorLog: join(copy.root, 'log', 'error.log'), env: copy.env });
    const res = await fetch(httpd.url('/board/', 'http'));
    expect([res.status, await res.text()]).toEqual([200, page]);
    const bare = await fetch(httpd.url('/board', 'http'), { redirect: 'manual' });
    expect([bare.status, bare.headers.get('location')]).toEqual([301, httpd.url('/board/', 'http')]);
    const client = await openClient(httpd.url('/board?id=debian-1'));
    expect(JSON.parse(await ask(client, 'hi'))).toEqual({ type: 'error', text: 'this board only receives messages' });
    await expect(openClient(httpd.url('/board?id=debian-1'))).rejects.toMatchObject({ status: 409 });
    client.ws.close();
    await client.closed;
  });

  it('--modules load on the same layout: LoadModule lines with the Debian module directory also pass', async () => {
    const generated = await runCommand(apache, ['-f', join(copy.root, 'wsgate.conf'), '--modules', 'load', '--style', 'wstunnel'], copy.root, copy.env);
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stdout).toContain('LoadModule proxy_wstunnel_module /usr/lib/apache2/modules/mod_proxy_wstunnel.so');
    writeFileSync(join(copy.conf, 'conf-available', 'wsgate.conf'), generated.stdout);
    const test = sh(copy, '/usr/sbin/apache2ctl', ['configtest']);
    expect(test.output).toContain('Syntax OK');
  });
});
