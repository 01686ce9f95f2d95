// mod_ssl's directives: what `wsgate check` says about certificates and protocols (FILE:LINE:COL),
// and how SSLEngine, Listen … https and the main server's values combine. Certificates are made
// by the test with `openssl`.
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { check } from '../../src/cli/check.js';
import { loadConfig } from '../../src/config/load.js';
import { listenerIsTls, parseSslProtocol } from '../../src/config/tls.js';
import { issue, makeCa, makeExpired, opensslMissing } from '../server/tls-certs.js';
import { brief, captureIO, tempTree } from './helpers.js';

const echo = join(import.meta.dirname, '..', '..', 'handlers', 'echo.mjs');
const endpoint = ['  <Location /echo>', '    SetHandler websocket-handler', `    WebSocketHandler ${echo}`, '  </Location>'];

function tlsVhost(lines: string[]): string {
  return ['Listen 127.0.0.1:0 https', '<VirtualHost *>', '  ServerName a.test', '  SSLEngine on', ...lines.map((l) => `  ${l}`), ...endpoint, '</VirtualHost>', ''].join('\n');
}

describe('SSLProtocol', () => {
  test('mod_ssl syntax mapped to a contiguous min/max range', () => {
    expect(parseSslProtocol(['all', '-SSLv3', '-TLSv1', '-TLSv1.1'])).toEqual({ min: 'TLSv1.2', max: 'TLSv1.3' });
    expect(parseSslProtocol(['TLSv1.3'])).toEqual({ min: 'TLSv1.3', max: 'TLSv1.3' });
    expect(parseSslProtocol(['-all', '+TLSv1.2'])).toEqual({ min: 'TLSv1.2', max: 'TLSv1.2' });
    expect(parseSslProtocol(['+TLSv1.1'])).toEqual({ min: 'TLSv1.1', max: 'TLSv1.3' });
    expect(() => parseSslProtocol(['TLSv1', '+TLSv1.2'])).toThrow(/contiguous range/);
    expect(() => parseSslProtocol(['-all'])).toThrow(/enables no protocol/);
    expect(() => parseSslProtocol(['+SSLv3'])).toThrow(/SSLv3 is not supported/);
  });
});

describe.skipIf(opensslMissing !== undefined)('wsgate check and TLS files', () => {
  function tree(conf: string): string {
    const root = tempTree({ 'wsgate.conf': conf });
    const ca = makeCa(root, 'ca');
    issue(root, ca, 'a', { dns: ['a.test'] });
    issue(root, ca, 'b', { dns: ['b.test'] });
    makeExpired(root, 'old');
    return root;
  }

  async function checked(conf: string, prepare: (root: string) => void = () => {}): Promise<{ code: number; err: string }> {
    const root = tree(conf);
    prepare(root);
    const { io, err } = captureIO(root);
    const code = await check(['-f', 'wsgate.conf'], io);
    return { code, err: err() };
  }

  test('a sound TLS vhost: Syntax OK, and the listener is TLS', async () => {
    const conf = tlsVhost(['SSLCertificateFile a.crt', 'SSLCertificateKeyFile a.key', 'SSLProtocol all -SSLv3 -TLSv1 -TLSv1.1', 'SSLCipherSuite HIGH:!aNULL', 'SSLHonorCipherOrder on']);
    expect(await checked(conf)).toEqual({ code: 0, err: '' });
    const root = tree(conf);
    const { config, diagnostics } = loadConfig(join(root, 'wsgate.conf'));
    expect(diagnostics).toEqual([]);
    const vhost = config.virtualHosts[0]!;
    expect(vhost.ssl).toMatchObject({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: 'HIGH:!aNULL', honorCipherOrder: true, verifyClient: 'none' });
    expect(listenerIsTls(config, config.listen[0]!)).toBe(true);
  });

  test('unreadable file, missing file, key of another certificate, unknown protocol: FILE:LINE:COL, exit 1', async () => {
    const missing = await checked(tlsVhost(['SSLCertificateFile nope.crt', 'SSLCertificateKeyFile a.key']));
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^wsgate\.conf:5:22: SSLCertificateFile: cannot read .*nope\.crt: ENOENT\n$/);

    if (process.getuid?.() !== 0) {
      const unreadable = await checked(tlsVhost(['SSLCertificateFile a.crt', 'SSLCertificateKeyFile a.key']), (root) => chmodSync(join(root, 'a.key'), 0o000));
      expect(unreadable.err).toMatch(/^wsgate\.conf:6:25: SSLCertificateKeyFile: cannot read .*a\.key: EACCES\n$/);
    }

    const mismatch = await checked(tlsVhost(['SSLCertificateFile a.crt', 'SSLCertificateKeyFile b.key']));
    expect(mismatch.code).toBe(1);
    expect(mismatch.err).toMatch(/^wsgate\.conf:6:25: SSLCertificateKeyFile: the private key in .*b\.key does not match the certificate in .*a\.crt\n$/);

    const protocol = await checked(tlsVhost(['SSLCertificateFile a.crt', 'SSLCertificateKeyFile a.key', 'SSLProtocol all -SSLv3 -TLSv1.4']));
    expect(protocol.code).toBe(1);
    expect(protocol.err).toBe("wsgate.conf:7:26: SSLProtocol: unknown protocol '-TLSv1.4' (expected all, SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, each optionally prefixed by + or -)\n");

    const ciphers = await checked(tlsVhost(['SSLCertificateFile a.crt', 'SSLCertificateKeyFile a.key', 'SSLCipherSuite NO-SUCH-CIPHER']));
    expect(ciphers.err).toMatch(/^wsgate\.conf:7:18: TLS settings of this virtual host are not usable: .*cipher/i);

    const verify = await checked(tlsVhost(['SSLCertificateFile a.crt', 'SSLCertificateKeyFile a.key', 'SSLVerifyClient require']));
    expect(verify.err).toBe('wsgate.conf:7:3: SSLVerifyClient require needs SSLCACertificateFile: the CA certificates client certificates must chain to\n');
  });

  test('an expired certificate is a warning: Syntax OK, exit 0', async () => {
    const expired = await checked(tlsVhost(['SSLCertificateFile old.crt', 'SSLCertificateKeyFile old.key']));
    expect(expired.code).toBe(0);
    expect(expired.err).toMatch(/^wsgate\.conf:5:22: warning: SSLCertificateFile: the certificate in .*old\.crt \(CN=old\) expired on 2020-01-02T00:00:00\.000Z; clients will refuse it\n$/);
  });

  test('TLS asked for but no certificate to serve is an error, never clear text', async () => {
    const noCert = await checked(['Listen 127.0.0.1:8443 https', ...endpoint, ''].join('\n'));
    expect(noCert.code).toBe(1);
    expect(noCert.err).toMatch(/^wsgate\.conf:1:1: Listen 8443 https: no virtual host on this port has `SSLEngine on` with SSLCertificateFile/);
    const bad = await checked('Listen 8443 h2\n');
    expect(bad.err).toBe("wsgate.conf:1:13: Listen: wsgate speaks http or https, not 'h2'\n");
  });

  test('main-server values are inherited; SSLEngine without a certificate keeps meaning TLS in a proxy in front', async () => {
    const inherited = tree(
      ['Listen 127.0.0.1:8443', 'SSLCertificateFile a.crt', 'SSLCertificateKeyFile a.key', 'SSLProtocol TLSv1.3',
        '<VirtualHost *:8443>', '  ServerName a.test', '  SSLEngine on', ...endpoint, '</VirtualHost>', ''].join('\n'),
    );
    const first = loadConfig(join(inherited, 'wsgate.conf'));
    expect(brief(first.diagnostics)).toEqual([]);
    expect(first.config.virtualHosts[0]!.ssl).toMatchObject({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
    expect(first.config.mainServer.ssl).toBeUndefined();
    expect(listenerIsTls(first.config, first.config.listen[0]!)).toBe(true);

    const proxied = tree(['Listen 127.0.0.1:8080', '<VirtualHost *:8080>', '  ServerName proxied.test', '  SSLEngine on', ...endpoint, '</VirtualHost>', ''].join('\n'));
    const second = loadConfig(join(proxied, 'wsgate.conf'));
    expect(brief(second.diagnostics)).toEqual([]);
    expect(second.config.virtualHosts[0]!.tls).toBe(true);
    expect(second.config.virtualHosts[0]!.ssl).toBeUndefined();
    expect(listenerIsTls(second.config, second.config.listen[0]!)).toBe(false);
  });

  test('certificate lines in a vhost without SSLEngine on are a warning', async () => {
    const root = tree(['Listen 127.0.0.1:8080', '<VirtualHost *:8080>', '  SSLCertificateFile a.crt', ...endpoint, '</VirtualHost>', ''].join('\n'));
    expect(brief(loadConfig(join(root, 'wsgate.conf')).diagnostics)).toEqual(['3:22 warning SSL certificate directives have no effect without `SSLEngine on` in this server or virtual host']);
  });
});
