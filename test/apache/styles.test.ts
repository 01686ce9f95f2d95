// Each --style through one private Apache: the three generated configs side by side (their
// IfModule-guarded LoadModule lines overlap on purpose), echo through each, the board layout (a page
// in DocumentRoot/STYLE/board/ next to the WebSocket /STYLE/board) through each, and what happens to
// a draft-76 (hixie-76) handshake through each.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBackend } from '../../src/apache/backend.js';
import { generateApacheConfig } from '../../src/apache/generate.js';
import { ProxyStyle, proxyStyles } from '../../src/apache/style.js';
import { globToRegExp } from '../../src/config/include.js';
import { ask, hixie76Exchange, openClient } from './clients.js';
import { answersBeforeKey3, startHixieBackend } from './hixie-backend.js';
import { configFor, jsEndpoint, probeHandler, repoRoot, runGateway } from './gateway.js';
import { apacheMissing, startHttpd, type Httpd } from './httpd.js';

const prefixFor = (style: ProxyStyle): string => `/${style}`;

/** Each style, with the draft-76 key bytes in the packet of the headers or in a later one. */
const runs = proxyStyles.flatMap((style) => (['with-headers', 'later'] as const).map((timing) => ({ style, timing })));
/** What Apache 2.4.71 does with a draft-76 handshake whose backend sends its 101 head first: only
 *  the old mod_proxy_wstunnel path loses key bytes that came with the headers. */
const draft76Outcomes = [
  'proxy with-headers: HTTP/1.1 101 WebSocket Protocol Handshake echoed=true',
  'proxy later: HTTP/1.1 101 WebSocket Protocol Handshake echoed=true',
  'wstunnel with-headers: HTTP/1.1 101 WebSocket Protocol Handshake echoed=false',
  'wstunnel later: HTTP/1.1 101 WebSocket Protocol Handshake echoed=true',
  'rewrite with-headers: HTTP/1.1 101 WebSocket Protocol Handshake echoed=true',
  'rewrite later: HTTP/1.1 101 WebSocket Protocol Handshake echoed=true',
];

/** `<Location /STYLE/wild/*>`: fnmatch over the whole path, as Apache. */
function wildcardEndpoint(style: ProxyStyle) {
  const pattern = `${prefixFor(style)}/wild/*`;
  const endpoint = jsEndpoint(pattern, probeHandler);
  return { ...endpoint, match: { kind: 'regex' as const, source: pattern, regex: globToRegExp(pattern), wildcard: true as const } };
}

const boardHandler = join(repoRoot, 'handlers', 'board', 'board.mjs');
const boardPage = '<!doctype html><title>board</title><p>the board page</p>\n';

function styleConfig(style: ProxyStyle) {
  return configFor([
    jsEndpoint(`${prefixFor(style)}/echo`, probeHandler),
    jsEndpoint(`${prefixFor(style)}/board`, boardHandler),
    jsEndpoint(`^${prefixFor(style)}/rooms/[0-9]+$`, probeHandler, {}, true),
    wildcardEndpoint(style),
  ]);
}

describe.skipIf(apacheMissing)('each proxy style through Apache', () => {
  let gateway: Awaited<ReturnType<typeof runGateway>>;
  let httpd: Httpd;
  let stub: Awaited<ReturnType<typeof startHixieBackend>>;
  let www: string;

  beforeAll(async () => {
    // DocumentRoot with STYLE/board/index.html, readable by Apache's children (www-data when root).
    www = mkdtempSync(join(tmpdir(), 'wsgate-www-'));
    for (const style of proxyStyles) {
      mkdirSync(join(www, style, 'board'), { recursive: true });
      writeFileSync(join(www, style, 'board', 'index.html'), boardPage);
      for (const dir of [join(www, style), join(www, style, 'board')]) chmodSync(dir, 0o755);
    }
    chmodSync(www, 0o755);
    const site = [
      'LoadModule dir_module modules/mod_dir.so',
      'LoadModule mime_module modules/mod_mime.so',
      'TypesConfig /etc/mime.types',
      'DirectoryIndex index.html',
      `DocumentRoot "${www}"`,
      `<Directory "${www}">`,
      '    Require all granted',
      '</Directory>',
    ];
    gateway = await runGateway(configFor(proxyStyles.flatMap((s) => styleConfig(s).endpoints)));
    stub = await startHixieBackend();
    const backend = parseBackend(`http://127.0.0.1:${gateway.port}`);
    const stubBackend = parseBackend(`http://127.0.0.1:${stub.port}`);
    const body = proxyStyles.flatMap((style) => [
      generateApacheConfig(styleConfig(style), { backend, style }).text,
      generateApacheConfig(configFor([jsEndpoint(`/stub-${style}`, probeHandler)]), { backend: stubBackend, style }).text,
    ]);
    // An Apache virtual host of the site's own: the server-wide endpoints must work through it too.
    const siteVhost = ['<VirtualHost *:*>', '    ServerName site.example', '</VirtualHost>'];
    httpd = await startHttpd({ body: [...site, ...body, ...siteVhost].join('\n') });
  });

  afterAll(async () => {
    await httpd?.stop();
    await gateway?.close();
    await stub?.close();
    if (www) rmSync(www, { recursive: true, force: true });
  });

  it('the hixie-76 client gets the known answer and an echo from the gateway directly', async () => {
    const direct = await hixie76Exchange(gateway.port, '/proxy/echo', 'direct');
    expect(direct.statusLine).toMatch(/^HTTP\/1\.1 101 /);
    expect(direct.echoed).toBe(true);
  });

  for (const style of proxyStyles) {
    it(`${style}: echoes on a Location and on a LocationMatch`, async () => {
      const client = await openClient(httpd.url(`${prefixFor(style)}/echo/sub?x=1`));
      expect(await ask(client, `via ${style}`)).toBe(`via ${style}`);
      client.ws.close();
      const room = await openClient(httpd.url(`${prefixFor(style)}/rooms/7`));
      expect(await ask(room, `room via ${style}`)).toBe(`room via ${style}`);
      room.ws.close();
      const wild = await openClient(httpd.url(`${prefixFor(style)}/wild/7`));
      expect(await ask(wild, `wildcard via ${style}`)).toBe(`wildcard via ${style}`);
      wild.ws.close();
      const inVhost = await openClient(httpd.url(`${prefixFor(style)}/echo`), { headers: { Host: 'site.example' } });
      expect(await ask(inVhost, `vhost via ${style}`)).toBe(`vhost via ${style}`);
      inVhost.ws.close();
    });
  }

  it('a wildcard <Location> captures only what it matches in Apache too (not /shop/proxy/wild-list.html)', async () => {
    const res = await fetch(httpd.url('/shop/proxy/wild-list.html', 'http'));
    await res.arrayBuffer();
    // Apache's own 404 page (HTML), not the gateway's plain-text answer.
    expect([res.status, res.headers.get('content-type')]).toEqual([404, 'text/html; charset=iso-8859-1']);
  });

  it('forwards only WebSocket handshakes in every style: plain requests stay with Apache', async () => {
    const plain = async (path: string): Promise<{ status: number; upgrade: string | null }> => {
      const res = await fetch(httpd.url(path, 'http'));
      await res.arrayBuffer();
      return { status: res.status, upgrade: res.headers.get('upgrade') };
    };
    // No document there: Apache's 404, not the gateway's 426 + Upgrade: websocket.
    for (const style of proxyStyles) {
      expect(await plain(`${prefixFor(style)}/echo`)).toEqual({ status: 404, upgrade: null });
      expect(await plain(`${prefixFor(style)}/rooms/7`)).toEqual({ status: 404, upgrade: null });
    }
  });

  const get = async (path: string) => {
    const res = await fetch(httpd.url(path, 'http'), { redirect: 'manual' });
    return { status: res.status, location: res.headers.get('location'), type: res.headers.get('content-type'), body: await res.text() };
  };

  for (const style of proxyStyles) {
    describe(`${style}: the board layout (DocumentRoot/${style}/board/index.html + the WebSocket ${prefixFor(style)}/board)`, () => {
      const board = `${prefixFor(style)}/board`;

      it('GET /board/ is the page from DocumentRoot', async () => {
        expect(await get(`${board}/`)).toMatchObject({ status: 200, type: 'text/html', body: boardPage });
        expect(await get(`${board}/index.html`)).toMatchObject({ status: 200, body: boardPage });
      });

      it("GET /board without Upgrade is mod_dir's 301 to /board/ (query kept), not the gateway's 426", async () => {
        expect(await get(board)).toMatchObject({ status: 301, location: httpd.url(`${board}/`, 'http') });
        expect(await get(`${board}?id=x`)).toMatchObject({ status: 301, location: httpd.url(`${board}/?id=x`, 'http') });
      });

      it('the WebSocket to /board and /board?id=X reaches the board handler, with its query', async () => {
        const bare = await openClient(httpd.url(board));
        expect(JSON.parse(await ask(bare, 'hi'))).toEqual({ type: 'error', text: 'this board only receives messages' });
        const id = `styles-${style}`;
        const withId = await openClient(httpd.url(`${board}?id=${id}&room=r1`));
        expect(JSON.parse(await ask(withId, 'hi')).type).toBe('error');
        // The query reached the gateway: the same id again is refused (409), a bad room too (403).
        await expect(openClient(httpd.url(`${board}?id=${id}`))).rejects.toMatchObject({ status: 409 });
        await expect(openClient(httpd.url(`${board}?room=no%20spaces`))).rejects.toMatchObject({ status: 403 });
        bare.ws.close();
        withId.ws.close();
        await Promise.all([bare.closed, withId.closed]);
      });
    });
  }

  // Apache relays nothing from the client until the backend's 101 header block has come back, so
  // the 8 key bytes that follow the draft-76 headers stay in Apache. A backend that waits for them
  // before answering never answers; one that sends its headers first completes the handshake —
  // except through the old mod_proxy_wstunnel path when the key bytes came in the same packet as
  // the headers (as browsers sent them): then the answer never reaches the client.
  it('draft-76 through each style when the backend sends its 101 headers before the key bytes', async () => {
    const outcomes = await Promise.all(runs.map(({ style, timing }) => hixie76Exchange(httpd.port, `/stub-${style}`, 'hixie', 2_000, timing)));
    const observed = outcomes.map((o, i) => `${runs[i]?.style} ${runs[i]?.timing}: ${o.statusLine} echoed=${o.echoed}`);
    expect(observed).toEqual(draft76Outcomes);
  });

  it('draft-76 through each style to the gateway: it sends its 101 head first, so only wstunnel with the key bytes in the headers packet fails', async () => {
    // The gateway answers a draft-76 request whose key bytes have not arrived with its head at once.
    expect(await answersBeforeKey3(gateway.port, '/proxy/echo')).toBe(true);
    const outcomes = await Promise.all(runs.map(({ style, timing }) => hixie76Exchange(httpd.port, `${prefixFor(style)}/echo`, 'hixie', 2_000, timing)));
    const observed = outcomes.map((o, i) => `${runs[i]?.style} ${runs[i]?.timing}: ${o.statusLine} echoed=${o.echoed}`);
    // The same outcomes as the stub backend above: what remains is Apache's old tunnel code.
    expect(observed).toEqual(draft76Outcomes);
  });
});
