// <Location PATH> matching against a real Apache: which section wins for each path must be the
// one wsgate's router picks, so a migrated config routes as it did (httpd's rule: a prefix that
// ends at a path segment, unless PATH ends with '/'; the last matching section wins).
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locationName } from '../../src/config/location-match.js';
import { Router } from '../../src/server/router.js';
import { endpoint, gatewayConfig } from '../server/config-fixture.js';
import { apacheMissing, startHttpd, type Httpd } from './httpd.js';

const LOCATIONS = ['/', '/echo', '/echo/d', '/dir/', '/a b'];
const PATHS = ['/', '/x', '/echo', '/echo/', '/echo/x', '/echoes', '/ech', '/echo/d', '/echo/d/', '/echo/d/x', '/echo/dx', '/dir', '/dir/', '/dir/x', '/dirx', '/a b', '/a b/c', '/a bc'];

describe.skipIf(apacheMissing)('<Location> matching, wsgate against Apache', () => {
  let httpd: Httpd;
  const root = mkdtempSync(join(tmpdir(), 'wsgate-location-docroot-'));

  beforeAll(async () => {
    chmodSync(root, 0o755); // Apache's children run as another user (as root: www-data)
    // Each section denies and names itself in the 403 body: the body says which section won.
    const sections = LOCATIONS.map((l) => `<Location "${l}">\n  Require all denied\n  ErrorDocument 403 "section ${l}"\n</Location>\n`).join('');
    httpd = await startHttpd({ body: `DocumentRoot "${root}"\n${sections}` });
  });
  afterAll(async () => {
    await httpd?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('picks the same section for every path', async () => {
    const router = new Router(gatewayConfig(LOCATIONS.map((l) => endpoint(l))));
    const apache: Record<string, string> = {};
    const wsgate: Record<string, string> = {};
    for (const path of PATHS) {
      const res = await fetch(httpd.url(encodeURI(path), 'http'));
      const body = await res.text();
      apache[path] = res.status === 403 ? body.replace(/^section /, '').trim() : `HTTP ${res.status}`;
      const chosen = router.route('127.0.0.1', httpd.port, path);
      wsgate[path] = chosen ? locationName(chosen) : 'HTTP 404';
    }
    expect(wsgate).toEqual(apache);
    // The rule itself, as Apache applied it above.
    expect(apache['/echoes']).toBe('/');
    expect(apache['/echo/dx']).toBe('/echo');
    expect(apache['/dir']).toBe('/');
  });
});
