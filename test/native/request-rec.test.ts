// Plugins written against Apache 2.4's httpd.h (request_rec, ap_log_rerror…) over real sockets:
// every request_rec field checked against what the request carried, headers_out on the 101, the
// plugin's log lines on the connection's log; `wsgate check` naming the ap_* functions a plugin
// needs and wsgate lacks.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { validateHandlers } from '../../src/plugins/validate.js';
import { nativeLibrary } from '../../src/plugins/native/ffi.js';
import { HandshakeRefused, openWebSocket, type RawClient } from '../conformance/raw-client.js';
import { buildNative, compileFixture, HTTPD_CFLAGS, nativeConfig, repoRoot } from './helpers.js';

const httpdMissing = existsSync('/usr/include/apache2/httpd.h') ? undefined : 'Apache headers missing (apt-get install apache2-dev)';

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** "name=value" lines of the plugin's report message. */
function parseReport(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

async function firstText(client: RawClient): Promise<string> {
  const ok = await client.waitUntil(() => client.messages().length > 0, 5000);
  if (!ok) throw new Error(`no message: ${client.describe()}`);
  return client.messages()[0]!.data.toString('utf8');
}

describe.skipIf(httpdMissing)('a plugin compiled against httpd.h', () => {
  let gateway: RunningGateway;
  let port: number;
  const lines: LogLine[] = [];
  let plugin: string;

  beforeAll(async () => {
    buildNative();
    plugin = compileFixture('apache_request', HTTPD_CFLAGS);
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
    gateway = await startGateway(nativeConfig([{ location: '/req', path: plugin, init: 'request_init' }]), { log });
    port = gateway.addresses[0]!.port;
  });

  afterAll(async () => {
    await gateway?.close();
  });

  test('the helper runs with the httpd shim', () => {
    const lib = nativeLibrary();
    if (lib instanceof Error) throw lib;
    expect(lib.httpdUnavailable).toBe('');
  });

  test('on_connect reads request_rec as Apache 2.4 fills it; headers_out reaches the 101', async () => {
    const before = Math.floor(Date.now() / 1000);
    const target = '/req/caf%C3%A9/x?token=secret&a=1';
    const client = await openWebSocket({
      port,
      path: target,
      headers: [
        ['Cookie', 'theme=dark; sid=abc123'],
        ['X-Custom', 'one'],
        ['x-custom', 'two'],
      ],
    });
    try {
      expect(client.head.headers.get('x-session')).toEqual(['abc123']);
      expect(client.head.headers.get('x-err-header')).toEqual(['yes']);
      const r = parseReport(await firstText(client));
      const clientPort = client.socket.localPort!;
      expect(r).toMatchObject({
        the_request: `GET ${target} HTTP/1.1`,
        protocol: 'HTTP/1.1',
        proto_num: '1001',
        hostname: '127.0.0.1',
        method: 'GET',
        method_number: '0',
        unparsed_uri: target,
        uri: '/req/café/x',
        args: 'token=secret&a=1',
        path_info: '/café/x',
        useragent_ip: '127.0.0.1',
        useragent_port: String(clientPort),
        client_ip: '127.0.0.1',
        client_port: String(clientPort),
        local_ip: '127.0.0.1',
        local_port: String(port),
        conn_pool: 'yes',
        server_hostname: hostname(),
        server_port: '0',
        server_admin: '[no address given]',
        status: '200',
        handler: 'websocket-handler',
        cookie: 'theme=dark; sid=abc123',
        custom: 'one, two',
        // Host, Upgrade, Connection, Sec-WebSocket-Key, Sec-WebSocket-Version, Origin, Cookie, X-Custom (merged)
        headers: '8',
        get_server_name: '127.0.0.1',
        get_server_port: String(port),
        http_scheme: 'http',
        filename: '(null)',
        per_dir_config: '(null)',
        'env.REMOTE_ADDR': '127.0.0.1',
        'env.REMOTE_PORT': String(clientPort),
        'env.SERVER_NAME': '127.0.0.1',
        'env.SERVER_PORT': String(port),
        'env.SERVER_ADDR': '127.0.0.1',
        'env.REQUEST_METHOD': 'GET',
        'env.REQUEST_URI': target,
        'env.QUERY_STRING': 'token=secret&a=1',
        'env.REQUEST_SCHEME': 'http',
      });
      expect(r['env.HTTPS']).toBeUndefined();
      const seconds = Number(r.request_time_s);
      expect(seconds).toBeGreaterThanOrEqual(before);
      expect(seconds).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    } finally {
      client.destroy();
    }
  });

  test('ap_log_rerror lines reach the connection log at the matching level; debug is filtered as Apache would', async () => {
    const client = await openWebSocket({ port, path: '/req/logged?token=secret' });
    client.destroy();
    const accepted = lines.find((l) => l.msg === 'accepted 127.0.0.1 for /req/logged');
    expect(accepted).toMatchObject({ level: 30, path: '/req/logged', remote: '127.0.0.1', plugin: `${plugin} request_init` });
    expect(accepted?.source).toMatch(/^apache_request\.c\(\d+\)$/);
    expect(typeof accepted?.conn).toBe('string');
    expect(lines.some((l) => l.msg.startsWith('debug detail'))).toBe(false);
  });

  test('a wrong token is declined with 403 and the reason logged at error; nothing the plugin set is sent', async () => {
    const refused = await openWebSocket({ port, path: '/req/x?token=wrong', headers: [['Cookie', 'sid=zzz']] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HandshakeRefused);
    const head = (refused as HandshakeRefused).head;
    expect(head.status).toBe(403);
    expect(head.headers.get('x-session')).toBeUndefined();
    expect(lines.find((l) => l.msg === 'refused 127.0.0.1: bad token wrong')).toMatchObject({ level: 50, path: '/req/x' });
    const missing = await openWebSocket({ port, path: '/req/x' }).catch((e: unknown) => e);
    expect((missing as HandshakeRefused).head.status).toBe(403);
    expect(lines.some((l) => l.msg === 'refused 127.0.0.1: bad token (null)')).toBe(true);
  });

  test('ap_log_cerror and ap_log_error (with an APR status, and with no server) after the handshake', async () => {
    const client = await openWebSocket({ port, path: '/req/later?token=secret' });
    try {
      await firstText(client);
      client.sendFrame({ opcode: 1, payload: Buffer.from('log') });
      await client.waitUntil(() => client.messages().length === 2, 5000);
      const warn = lines.find((l) => l.msg === 'connection warning from 127.0.0.1');
      expect(warn).toMatchObject({ level: 40, path: '/req/later' });
      expect(lines.find((l) => l.msg === `(2)No such file or directory: server error on ${hostname()}`)).toMatchObject({ level: 50, path: '/req/later' });
      expect(lines.find((l) => l.msg === 'no server at all')).toMatchObject({ level: 30 });
    } finally {
      client.destroy();
    }
  });
});

describe.skipIf(httpdMissing)('wsgate check and plugins that need httpd', () => {
  beforeAll(() => buildNative());

  test('names every ap_* function the plugin needs and wsgate lacks, at its WebSocketHandler line', async () => {
    const needs = compileFixture('needs_httpd', HTTPD_CFLAGS);
    const config = nativeConfig([{ location: '/needs', path: needs, init: 'needs_init' }]);
    const diagnostics = await validateHandlers(config);
    expect(diagnostics).toHaveLength(1);
    const [d] = diagnostics;
    expect(d!.loc).toEqual(config.endpoints[0]!.handler.loc);
    expect(d!.message).toBe(`${needs} calls Apache functions wsgate does not provide: ap_rwrite, ap_set_content_type (see handlers/c/README.md for the ones it does)`);
  });

  test.skipIf(!existsSync(join(repoRoot, 'dist/plugins/native/index.js')))('`wsgate check` prints it as FILE:LINE:COL of the WebSocketHandler line, exit 1', () => {
    const needs = compileFixture('needs_httpd', HTTPD_CFLAGS);
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-needs-'));
    const conf = join(dir, 'needs.conf');
    writeFileSync(conf, ['Listen 127.0.0.1:0', '<Location /needs>', '  SetHandler websocket-handler', `  WebSocketHandler ${needs} needs_init`, '</Location>', ''].join('\n'));
    const r = spawnSync(process.execPath, [join(repoRoot, 'bin/wsgate.js'), 'check', '-f', conf], { encoding: 'utf8', timeout: 15_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${conf}:4:3: ${needs} calls Apache functions wsgate does not provide: ap_rwrite, ap_set_content_type`);
  });

  test('a plugin built against Apache 2.2 headers is refused as such', async () => {
    const old = compileFixture('httpd22');
    const diagnostics = await validateHandlers(nativeConfig([{ location: '/old', path: old, init: 'old_init' }]));
    expect(diagnostics.map((d) => d.message)).toEqual([
      `${old} was compiled against Apache 2.2's headers (it calls ap_log_rerror, which 2.4 names ap_log_rerror_); wsgate provides Apache 2.4's request_rec and functions: rebuild it against 2.4's httpd.h`,
    ]);
  });

  test('a plugin that uses only the shim loads', async () => {
    const ok = compileFixture('apache_request', HTTPD_CFLAGS);
    expect(await validateHandlers(nativeConfig([{ location: '/ok', path: ok, init: 'request_init' }]))).toEqual([]);
  });
});
