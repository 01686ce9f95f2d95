// wss:// terminated by the gateway itself (WebSocketWorkers 0: startGateway's own listeners), with
// certificates the test makes with `openssl`: echo, SNI picking each vhost's certificate, client
// certificates (require / optional), the Origin check over real TLS, and clients that botch the
// TLS handshake or speak clear text to a TLS port.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { pino } from 'pino';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { closed, handshakeStatus, nextMessage, openWs } from './helpers.js';
import { issue, makeCa, opensslMissing, type CertFiles } from './tls-certs.js';

/** A handler that answers each message with the client certificate it saw (or null). */
const certEcho = `export default {
  onMessage(conn, data, isBinary) {
    conn.send(data.toString() === 'who' ? JSON.stringify(conn.clientCertificate ?? null) : data, isBinary);
  },
};
`;

describe.skipIf(opensslMissing !== undefined)('wss:// in one process (WebSocketWorkers 0)', () => {
  let dir: string;
  let gateway: RunningGateway;
  let port: number;
  let ca: CertFiles;
  let alice: CertFiles;
  let mallory: CertFiles;
  const logLines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wsgate-tls-'));
    ca = makeCa(dir, 'test-ca');
    issue(dir, ca, 'a.test', { dns: ['a.test'], ip: ['127.0.0.1'] });
    issue(dir, ca, 'b.test', { dns: ['b.test'] });
    issue(dir, ca, 'c.test', { dns: ['c.test'] });
    const clients = makeCa(dir, 'client-ca');
    alice = issue(dir, clients, 'alice', { client: true });
    const other = makeCa(dir, 'other-ca');
    mallory = issue(dir, other, 'mallory', { client: true });
    writeFileSync(join(dir, 'cert-echo.mjs'), certEcho);
    const site = (name: string, extra: string[]) => [
      '<VirtualHost *>',
      `  ServerName ${name}`,
      '  SSLEngine on',
      `  SSLCertificateFile ${name}.crt`,
      `  SSLCertificateKeyFile ${name}.key`,
      ...extra.map((l) => `  ${l}`),
      '  <Location /echo>',
      '    SetHandler websocket-handler',
      '    WebSocketHandler cert-echo.mjs',
      '  </Location>',
      '</VirtualHost>',
    ];
    writeFileSync(
      join(dir, 'wsgate.conf'),
      [
        'Listen 127.0.0.1:0 https',
        'WebSocketWorkers 0',
        'SSLProtocol all -SSLv3 -TLSv1 -TLSv1.1',
        ...site('a.test', ['WebSocketOriginCheck Same']),
        ...site('b.test', ['SSLCACertificateFile client-ca.crt', 'SSLVerifyClient require']),
        ...site('c.test', ['SSLCACertificateFile client-ca.crt', 'SSLVerifyClient optional']),
        '',
      ].join('\n'),
    );
    const { config, diagnostics } = loadConfig(join(dir, 'wsgate.conf'));
    expect(diagnostics).toEqual([]);
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line.startsWith('{')) logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    gateway = await startGateway(config, { log: pino({ level: 'info' }, sink) });
    port = gateway.addresses[0]!.port;
  });

  afterAll(async () => {
    await gateway?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const url = (path = '/echo') => `wss://127.0.0.1:${port}${path}`;
  const trust = () => ({ ca: readFileSync(ca.cert) });
  /** As a client that asks for `name`: SNI and Host. */
  // `servername` goes through ws to tls.connect (ws's types do not list it).
  const as = (name: string, extra: WebSocket.ClientOptions = {}): WebSocket.ClientOptions =>
    ({ ...trust(), servername: name, headers: { Host: `${name}:${port}` }, ...extra }) as WebSocket.ClientOptions;
  const clientCert = (files: CertFiles) => ({ cert: readFileSync(files.cert), key: readFileSync(files.key) });

  function peerCertificate(servername: string | undefined): Promise<PeerCertificate> {
    return new Promise((resolvePeer, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, ...trust(), ...(servername ? { servername } : {}), checkServerIdentity: () => undefined }, () => {
        resolvePeer(socket.getPeerCertificate());
        socket.destroy();
      });
      socket.once('error', reject);
    });
  }

  it('listens with TLS and echoes 32 B and 16 KiB messages over wss://, verified against the test CA', async () => {
    expect(logLines.find((l) => l.msg === 'listening')).toMatchObject({ tls: true });
    const ws = await openWs(url(), undefined, trust());
    for (const size of [32, 16 * 1024]) {
      const payload = Buffer.alloc(size, 0x61 + (size % 26));
      ws.send(payload, { binary: true });
      const { data, isBinary } = await nextMessage(ws);
      expect(isBinary).toBe(true);
      expect(Buffer.compare(data, payload)).toBe(0);
    }
    ws.close(1000);
    expect((await closed(ws)).code).toBe(1000);
  });

  it('SNI picks the certificate of the vhost named; no SNI gets the first TLS vhost', async () => {
    expect((await peerCertificate('b.test')).subject.CN).toBe('b.test');
    expect((await peerCertificate('C.TEST')).subject.CN).toBe('c.test');
    expect((await peerCertificate('a.test')).subject.CN).toBe('a.test');
    expect((await peerCertificate(undefined)).subject.CN).toBe('a.test');
    expect((await peerCertificate('unknown.test')).subject.CN).toBe('a.test');
  });

  it('SSLVerifyClient require: no certificate or one of another CA → 403; a verified one reaches the handler and the log', async () => {
    expect((await handshakeStatus(url(), undefined, as('b.test'))).status).toBe(403);
    const foreign = await handshakeStatus(url(), undefined, as('b.test', clientCert(mallory)));
    expect(foreign.status).toBe(403);
    const ws = await openWs(url(), undefined, as('b.test', clientCert(alice)));
    ws.send('who');
    const seen = JSON.parse((await nextMessage(ws)).data.toString()) as Record<string, string>;
    expect(seen).toMatchObject({ subject: 'CN=alice,O=wsgate tests', issuer: 'CN=client-ca,O=wsgate tests' });
    expect(seen.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    ws.close();
    await closed(ws);
    expect(logLines.filter((l) => l.msg === 'connected').at(-1)).toMatchObject({ clientCertificate: 'CN=alice,O=wsgate tests' });
    expect(logLines.some((l) => l.msg === 'handshake refused' && /client certificate is required/.test(String(l.reason)))).toBe(true);
  });

  it('a client cannot dodge require by naming an optional vhost in SNI and the requiring one in Host', async () => {
    const status = await handshakeStatus(url(), undefined, { ...as('c.test'), headers: { Host: `b.test:${port}` } });
    expect(status.status).toBe(403);
  });

  it('SSLVerifyClient optional: no certificate is fine, a verified one is seen, one that does not verify → 403', async () => {
    const anonymous = await openWs(url(), undefined, as('c.test'));
    anonymous.send('who');
    expect((await nextMessage(anonymous)).data.toString()).toBe('null');
    anonymous.terminate();
    const known = await openWs(url(), undefined, as('c.test', clientCert(alice)));
    known.send('who');
    expect(JSON.parse((await nextMessage(known)).data.toString())).toMatchObject({ subject: 'CN=alice,O=wsgate tests' });
    known.terminate();
    expect((await handshakeStatus(url(), undefined, as('c.test', clientCert(mallory)))).status).toBe(403);
  });

  it('the Origin check (Same) treats the SSLEngine vhost as https over real TLS', async () => {
    const withOrigin = (origin: string) => handshakeStatus(url(), undefined, as('a.test', { origin }));
    expect((await withOrigin(`https://a.test:${port}`)).status).toBe(101);
    expect((await withOrigin(`http://a.test:${port}`)).status).toBe(403);
    expect((await withOrigin(`https://evil.test:${port}`)).status).toBe(403);
  });

  it('never speaks clear text on the TLS port, and survives aborted or garbage handshakes', async () => {
    // A plain ws:// client gets no HTTP answer at all.
    const plain = await new Promise<string>((done) => {
      const socket = tcpConnect(port, '127.0.0.1', () => socket.write('GET /echo HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
      let got = '';
      socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
      socket.on('error', () => {});
      socket.on('close', () => done(got));
    });
    expect(plain).not.toMatch(/HTTP\/1\.1/);
    // Half a ClientHello, then gone; and a TLS client that gives up on an untrusted certificate.
    await new Promise<void>((done) => {
      const socket = tcpConnect(port, '127.0.0.1', () => {
        socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]));
        socket.destroy();
        done();
      });
    });
    await expect(openWs(url())).rejects.toThrow(/self-signed|unable to verify|certificate/i);
    const ws = await openWs(url(), undefined, trust());
    ws.send('still here');
    expect((await nextMessage(ws)).data.toString()).toBe('still here');
    ws.terminate();
  });
});
