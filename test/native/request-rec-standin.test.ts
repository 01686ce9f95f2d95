// Without the httpd shim (built only where Apache's httpd.h is installed; WSGATE_HTTPD_SHIM=''
// stands for that here, in this test file's own process): request() is the zeroed stand-in whose
// first field is the pool, the log says so once, and `wsgate check` says why a plugin that calls
// ap_* cannot load.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { validateHandlers } from '../../src/plugins/validate.js';
import { buildNative, compileFixture, handshake, HTTPD_CFLAGS, nativeConfig } from './helpers.js';
import { existsSync } from 'node:fs';

const httpdMissing = existsSync('/usr/include/apache2/httpd.h') ? undefined : 'Apache headers missing (apt-get install apache2-dev)';

describe('without the httpd shim', () => {
  let gateway: RunningGateway;
  let url: string;
  const lines: Array<{ level: number; msg: string }> = [];

  beforeAll(async () => {
    process.env.WSGATE_HTTPD_SHIM = ''; // before the helper is loaded (once per process)
    buildNative();
    const probe = compileFixture('probe');
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) });
    gateway = await startGateway(
      nativeConfig([
        { location: '/a', path: probe, init: 'probe_init' },
        { location: '/b', path: probe, init: 'probe_init' },
      ]),
      { log },
    );
    url = `ws://127.0.0.1:${gateway.addresses[0]!.port}`;
  });

  afterAll(async () => {
    await gateway?.close();
  });

  test('request() is the stand-in with a live pool, and the log says so once', async () => {
    const answer = await handshake(`${url}/a`);
    expect(answer.status).toBe(101);
    expect(answer.headers['x-request']).toBe('pool');
    answer.ws.terminate();
    const notes = lines.filter((l) => l.msg.includes('zeroed stand-in request_rec'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ level: 40 });
    expect(notes[0]!.msg).toContain('the httpd shim is disabled (WSGATE_HTTPD_SHIM is empty)');
  });

  test.skipIf(httpdMissing)('`wsgate check` names the ap_* functions and why none are there', async () => {
    const needs = compileFixture('needs_httpd', HTTPD_CFLAGS);
    const diagnostics = await validateHandlers(nativeConfig([{ location: '/n', path: needs, init: 'needs_init' }]));
    expect(diagnostics.map((d) => d.message)).toEqual([
      `${needs} calls Apache functions (ap_log_rerror_, ap_rwrite, ap_set_content_type), and wsgate's httpd shim is not available: the httpd shim is disabled (WSGATE_HTTPD_SHIM is empty) (install apache2-dev and run \`npm run build\`)`,
    ]);
  });
});
