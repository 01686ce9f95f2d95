// Certificates made by the tests with Debian's `openssl` CLI: a test CA, server and client
// certificates it signs, and an expired self-signed one. Every file goes to the given directory.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const opensslMissing = spawnSync('openssl', ['version']).status === 0 ? undefined : 'openssl is not installed';

const openssl = (args: string[], cwd: string): void => {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
};

export interface CertFiles {
  cert: string;
  key: string;
}

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A self-signed CA named `name`. */
export function makeCa(dir: string, name: string): CertFiles {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  openssl(['req', '-x509', ...ecKey, '-keyout', key, '-out', cert, '-days', '30', '-subj', `/O=wsgate tests/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  return { cert, key };
}

/** A leaf certificate signed by `ca`: a server one (names: DNS names and IPs for subjectAltName) or a client one. */
export function issue(dir: string, ca: CertFiles, name: string, options: { dns?: string[]; ip?: string[]; client?: boolean } = {}): CertFiles {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  openssl(['req', ...ecKey, '-keyout', key, '-out', csr, '-subj', `/O=wsgate tests/CN=${name}`], dir);
  const san = [...(options.dns ?? []).map((d) => `DNS:${d}`), ...(options.ip ?? []).map((i) => `IP:${i}`)];
  writeFileSync(ext, [
    'basicConstraints=CA:FALSE',
    `extendedKeyUsage=${options.client ? 'clientAuth' : 'serverAuth'}`,
    ...(san.length ? [`subjectAltName=${san.join(',')}`] : []),
    '',
  ].join('\n'));
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '30', '-extfile', ext], dir);
  return { cert, key };
}

/** A self-signed certificate valid only on 1 January 2020. */
export function makeExpired(dir: string, name: string): CertFiles {
  const db = join(dir, `${name}-db`);
  mkdirSync(db, { recursive: true });
  writeFileSync(join(db, 'index.txt'), '');
  writeFileSync(join(db, 'serial'), '01\n');
  const conf = join(dir, `${name}-ca.cnf`);
  writeFileSync(conf, `[ca]\ndefault_ca = d\n[d]\ndatabase = ${db}/index.txt\nnew_certs_dir = ${db}\nserial = ${db}/serial\npolicy = p\ndefault_md = sha256\n[p]\ncommonName = supplied\n`);
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  openssl(['req', ...ecKey, '-keyout', key, '-out', csr, '-subj', `/CN=${name}`], dir);
  openssl(['ca', '-batch', '-config', conf, '-selfsign', '-keyfile', key, '-in', csr, '-out', cert, '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-notext'], dir);
  return { cert, key };
}

/** base64 SHA-256 of the certificate's SubjectPublicKeyInfo (Chromium's --ignore-certificate-errors-spki-list). */
export function spkiHash(certFile: string): string {
  const spki = new X509Certificate(readFileSync(certFile)).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** The CN of a certificate file's subject. */
export function commonName(certFile: string): string | undefined {
  return /CN=([^\n]+)/.exec(new X509Certificate(readFileSync(certFile)).subject)?.[1];
}
