// End to end through a private Apache httpd running the generated config (style proxy) in front of
// the real gateway: echo, 1 MiB binary, subprotocols, close codes, dumb-increment, the client address
// through X-Forwarded-For, idle connections versus Apache's Timeout, and 503 → recovery.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBackend } from '../../src/apache/backend.js';
import { generateApacheConfig } from '../../src/apache/generate.js';
import { ask, openClient } from './clients.js';
import { configFor, dumbIncrementHandler, jsEndpoint, probeHandler, runGateway } from './gateway.js';
import { apacheMissing, freePort, startHttpd, type Httpd } from './httpd.js';
import { gatewayConfig, prefixEndpoint, vhost } from './model.js';

const config = configFor(
  [
    jsEndpoint('/probe', probeHandler, { pingInterval: 1 }),
    jsEndpoint('/quiet', probeHandler, { pingInterval: 0 }),
    jsEndpoint('/dumb-increment', dumbIncrementHandler, { pingInterval: 1 }),
    jsEndpoint('^/rooms/[0-9]+$', probeHandler, { pingInterval: 1 }, true),
    jsEndpoint('/secure', probeHandler, { pingInterval: 1 }),
  ],
  { remoteIp: { header: 'X-Forwarded-For', trustedProxies: ['127.0.0.1'] } },
);

function isSecure(endpoint: (typeof config.endpoints)[number]): boolean {
  return endpoint.match.kind === 'prefix' && endpoint.match.path === '/secure';
}

describe.skipIf(apacheMissing)('through Apache (ProxyPass upgrade=websocket)', () => {
  let gateway: Awaited<ReturnType<typeof runGateway>>;
  let httpd: Httpd;

  beforeAll(async () => {
    gateway = await runGateway(config);
    const backend = parseBackend(`http://127.0.0.1:${gateway.port}`);
    const port = await freePort();
    const generated = generateApacheConfig({ ...config, endpoints: config.endpoints.filter((e) => !isSecure(e)) }, { backend, timeout: 4 });
    // /secure as Apache sees it: inside a vhost marked TLS (SSLEngine on in the gateway config).
    const tlsSite = vhost([`127.0.0.1:${port}`], 'secure.test', 1, { tls: true });
    const secure = generateApacheConfig(gatewayConfig([prefixEndpoint(tlsSite, '/secure', 2, { pingInterval: 1 })]), { backend, timeout: 4 });
    // Apache's Timeout 2 and the generated proxy timeout 4 s: only the gateway's 1 s pings keep idle sockets open.
    httpd = await startHttpd({ body: `${generated.text}\n${secure.text}`, timeout: 2, port });
  });

  afterAll(async () => {
    await httpd?.stop();
    await gateway?.close();
  });

  it('echoes text and 1 MiB of binary byte for byte', async () => {
    const client = await openClient(httpd.url('/probe'));
    expect(await ask(client, 'hello through apache')).toBe('hello through apache');
    const payload = randomBytes(1024 * 1024);
    client.ws.send(payload);
    const back = await client.next();
    expect(back.isBinary).toBe(true);
    expect(back.data.equals(payload)).toBe(true);
    client.ws.close(1000);
    expect((await client.closed).code).toBe(1000);
  });

  it('forwards LocationMatch endpoints with the whole path, and only matching paths', async () => {
    const client = await openClient(httpd.url('/rooms/42'));
    expect(await ask(client, 'room')).toBe('room');
    client.ws.close();
    await expect(openClient(httpd.url('/rooms/abc'))).rejects.toMatchObject({ status: 404 });
  });

  it('negotiates the subprotocol end to end', async () => {
    const client = await openClient(httpd.url('/probe'), { protocols: ['chat.v1', 'chat.v2'] });
    expect(client.ws.protocol).toBe('chat.v2');
    client.ws.close();
  });

  it('carries close codes and reasons both ways', async () => {
    const byServer = await openClient(httpd.url('/probe'));
    byServer.ws.send('close:4000:server says bye');
    expect(await byServer.closed).toEqual({ code: 4000, reason: 'server says bye' });

    const byClient = await openClient(httpd.url('/probe'));
    byClient.ws.close(4001, 'client says bye');
    expect((await byClient.closed).code).toBe(4001);
    const observer = await openClient(httpd.url('/probe'));
    expect(await ask(observer, 'last-close')).toBe('4001 client says bye');
    observer.ws.close();
  });

  it('runs the dumb-increment handler', async () => {
    const client = await openClient(httpd.url('/dumb-increment'), { protocols: ['dumb-increment-protocol'] });
    expect(client.ws.protocol).toBe('dumb-increment-protocol');
    const first = Number(await client.nextText());
    const second = Number(await client.nextText());
    expect(second).toBe(first + 1);
    client.ws.send('reset\n');
    // Counting restarts: within a few ticks a value below the last one arrives.
    let restarted = false;
    for (let i = 0; i < 20 && !restarted; i++) restarted = Number(await client.nextText()) < second;
    expect(restarted).toBe(true);
    client.ws.close();
    await expect(openClient(httpd.url('/dumb-increment'))).rejects.toMatchObject({ status: 403 });
  });

  it('shows the handler the real client address and the original Host', async () => {
    // The client uses 127.0.0.2, Apache connects from 127.0.0.1 (a trusted proxy).
    const client = await openClient(httpd.url('/probe'), { localAddress: '127.0.0.2' });
    expect(await ask(client, 'whoami')).toBe('127.0.0.2');
    expect(await ask(client, 'host')).toBe(`127.0.0.1:${httpd.port}`);
    client.ws.close();
    // A forged X-Forwarded-For entry sits left of what Apache appends and is not trusted.
    const forged = await openClient(httpd.url('/probe'), { localAddress: '127.0.0.2', headers: { 'X-Forwarded-For': '203.0.113.9' } });
    expect(await ask(forged, 'whoami')).toBe('127.0.0.2');
    forged.ws.close();
  });

  it('sends X-Forwarded-Proto https from a TLS vhost only', async () => {
    const secure = await openClient(httpd.url('/secure'), { headers: { Host: 'secure.test' } });
    expect(await ask(secure, 'proto')).toBe('https');
    secure.ws.close();
    const plain = await openClient(httpd.url('/probe'));
    expect(await ask(plain, 'proto')).toBe('');
    plain.ws.close();
  });

  it("keeps an idle connection open past Apache's Timeout only when the gateway pings", async () => {
    const pinged = await openClient(httpd.url('/probe'));
    const unpinged = await openClient(httpd.url('/quiet'));
    const started = Date.now();
    const quietEnd = await unpinged.closed;
    const quietAfter = Date.now() - started;
    // Apache cuts the silent tunnel (no close frame) after max(Timeout 2, the ProxyPass timeout=4) = 4 s:
    // the generated per-worker timeout is the one in force.
    expect(quietEnd.code).toBe(1006);
    expect(quietAfter).toBeGreaterThanOrEqual(3_700);
    await new Promise((r) => setTimeout(r, Math.max(0, 6_500 - (Date.now() - started))));
    expect(pinged.ws.readyState).toBe(pinged.ws.OPEN);
    expect(await ask(pinged, 'still here')).toBe('still here');
    pinged.ws.close();
  });

  it('answers 503 while the gateway is down and recovers when it is back', async () => {
    const port = gateway.port;
    await gateway.close();
    await expect(openClient(httpd.url('/probe'))).rejects.toMatchObject({ status: 503 });
    gateway = await runGateway(config, port);
    const client = await openClient(httpd.url('/probe'));
    expect(await ask(client, 'back again')).toBe('back again');
    client.ws.close();
  });
});
