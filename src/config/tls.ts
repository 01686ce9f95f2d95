// mod_ssl's directives: SSLEngine with a certificate makes wsgate terminate TLS for a vhost
// (SSLEngine without one keeps its older meaning: TLS ends in a proxy in front). The lines are
// collected per scope while the tree is walked; finish() inherits the main server's values as
// mod_ssl merges them, reads and checks the files (key against certificate, expiry, cipher
// names) and decides which Listen lines are TLS. The files are read whenever the config is
// loaded, so a reload's new workers pick up renewed certificates.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { SourceLocation } from '../errors.js';
import type { DiagnosticSink } from './diagnostics.js';
import type { GatewayConfig, VerifyClient, VhostTls, VirtualHostConfig } from './model.js';
import { realPath } from './paths.js';
import { readRegularFile } from './read-file.js';
import { ValueError } from './values.js';
import { vhostPortsOf } from './vhost-ports.js';

type TlsVersion = VhostTls['minVersion'];

interface FileLine {
  path: string;
  loc: SourceLocation;
}

/** What one scope (the main server or a vhost) said, line by line. */
export interface TlsLines {
  engine?: { on: boolean; loc: SourceLocation };
  certFile?: FileLine;
  keyFile?: FileLine;
  chainFile?: FileLine;
  caFile?: FileLine;
  verify?: { value: VerifyClient; loc: SourceLocation };
  protocol?: { min: TlsVersion; max: TlsVersion; loc: SourceLocation };
  ciphers?: { value: string; loc: SourceLocation };
  ciphersuites?: { value: string; loc: SourceLocation };
  honorCipherOrder?: boolean;
}

/** Largest certificate, key or CA file read (a CA bundle is ~200 KB). */
const maxPemBytes = 4 * 1024 * 1024;

/** The versions node can speak, in order. SSLv2/SSLv3 are named by Apache but not available. */
const versions: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
const canonical = new Map(versions.map((v) => [v.toLowerCase(), v]));

/** `SSLProtocol [+|-]PROTOCOL...` as mod_ssl reads it (a name without a sign starts the set over),
 *  as the contiguous range node supports. Defaults to node's TLSv1.2–TLSv1.3 when nothing is left to add to. */
export function parseSslProtocol(args: readonly string[]): { min: TlsVersion; max: TlsVersion } {
  let enabled = new Set<TlsVersion>(['TLSv1.2', 'TLSv1.3']);
  args.forEach((arg, index) => {
    const sign = arg[0] === '+' || arg[0] === '-' ? arg[0] : '';
    const name = arg.slice(sign.length).toLowerCase();
    let named: TlsVersion[];
    if (name === 'all') named = [...versions];
    else if (name === 'sslv3' || name === 'sslv2') {
      if (sign === '-') return; // never available: removing it is a no-op, as in Apache builds without it
      throw new ValueError(`SSLProtocol: ${arg.slice(sign.length)} is not supported (Node.js speaks TLSv1 to TLSv1.3); remove it or write -${arg.slice(sign.length)}`, index);
    } else {
      const version = canonical.get(name);
      if (version === undefined) throw new ValueError(`SSLProtocol: unknown protocol '${arg}' (expected all, SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, each optionally prefixed by + or -)`, index);
      named = [version];
    }
    if (sign === '') enabled = new Set(named);
    else for (const v of named) sign === '+' ? enabled.add(v) : enabled.delete(v);
  });
  const on = versions.map((v) => enabled.has(v));
  const first = on.indexOf(true);
  const last = on.lastIndexOf(true);
  if (first < 0) throw new ValueError(`SSLProtocol ${args.join(' ')} enables no protocol`);
  if (on.slice(first, last + 1).includes(false)) {
    throw new ValueError(`SSLProtocol ${args.join(' ')}: the enabled protocols must be a contiguous range (Node.js takes a minimum and a maximum version)`);
  }
  return { min: versions[first]!, max: versions[last]! };
}

export function parseVerifyClient(value: string): VerifyClient {
  const v = value.toLowerCase();
  if (v === 'none' || v === 'optional' || v === 'require') return v;
  if (v === 'optional_no_ca') throw new ValueError('SSLVerifyClient optional_no_ca is not supported: use optional or require with SSLCACertificateFile');
  throw new ValueError(`SSLVerifyClient must be none, optional or require, not '${value}'`);
}

export function parseOnOffValue(value: string, directive: string): boolean {
  const v = value.toLowerCase();
  if (v === 'on') return true;
  if (v === 'off') return false;
  throw new ValueError(`${directive} must be On or Off, not '${value}'`);
}

/** Records one SSL* line of a scope. `serverRoot`/`sysroot` resolve file paths as WebSocketHandler's. */
export function recordTlsLine(lines: TlsLines, name: string, args: readonly string[], loc: SourceLocation, argLocs: readonly SourceLocation[], files: { serverRoot: string; sysroot: string | undefined }): void {
  const [a = '', b] = args;
  const file = (): FileLine => ({ path: realPath(a, files.serverRoot, files.sysroot), loc: argLocs[0] ?? loc });
  switch (name) {
    case 'SSLCertificateFile':
      lines.certFile = file();
      return;
    case 'SSLCertificateKeyFile':
      lines.keyFile = file();
      return;
    case 'SSLCertificateChainFile':
      lines.chainFile = file();
      return;
    case 'SSLCACertificateFile':
      lines.caFile = file();
      return;
    case 'SSLVerifyClient':
      lines.verify = { value: parseVerifyClient(a), loc };
      return;
    case 'SSLProtocol':
      lines.protocol = { ...parseSslProtocol(args), loc };
      return;
    case 'SSLCipherSuite': {
      // `SSLCipherSuite [PROTOCOL] SPEC`: PROTOCOL SSL (TLS 1.2 and below, the default) or TLSv1.3.
      if (b === undefined) lines.ciphers = { value: a, loc: argLocs[0] ?? loc };
      else if (a.toLowerCase() === 'ssl') lines.ciphers = { value: b, loc: argLocs[1] ?? loc };
      else if (a.toLowerCase() === 'tlsv1.3') lines.ciphersuites = { value: b, loc: argLocs[1] ?? loc };
      else throw new ValueError(`SSLCipherSuite: the protocol before the cipher list is SSL or TLSv1.3, not '${a}'`);
      return;
    }
    case 'SSLHonorCipherOrder':
      lines.honorCipherOrder = parseOnOffValue(a, name);
      return;
    default:
      throw new Error(`no TLS setting for ${name}`);
  }
}

function readPem(line: FileLine, directive: string, sink: DiagnosticSink): Buffer | undefined {
  const read = readRegularFile(line.path, maxPemBytes);
  if (read.error !== undefined) {
    sink.error('CONFIG_VALUE', line.loc, `${directive}: cannot read ${line.path}: ${read.error}`);
    return undefined;
  }
  return Buffer.from(read.text);
}

/** The PEM blocks of `kind` ('CERTIFICATE', or any '… PRIVATE KEY'). */
function pemBlocks(pem: string, kind: RegExp): string[] {
  return [...pem.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)].filter((m) => kind.test(m[1]!)).map((m) => m[0]);
}

const certificateKind = /^(?:X509 |TRUSTED )?CERTIFICATE$/;
const keyKind = /PRIVATE KEY$/;

/** Reads and checks one TLS vhost's files; undefined (with errors reported) when it cannot serve. */
function buildVhostTls(lines: TlsLines, engineLoc: SourceLocation, sink: DiagnosticSink, now: Date): VhostTls | undefined {
  const certLine = lines.certFile!;
  const certPem = readPem(certLine, 'SSLCertificateFile', sink);
  const keyPem = lines.keyFile ? readPem(lines.keyFile, 'SSLCertificateKeyFile', sink) : certPem;
  const chainPem = lines.chainFile ? readPem(lines.chainFile, 'SSLCertificateChainFile', sink) : Buffer.alloc(0);
  const caPem = lines.caFile ? readPem(lines.caFile, 'SSLCACertificateFile', sink) : undefined;
  const verify = lines.verify?.value ?? 'none';
  if (verify !== 'none' && !lines.caFile) {
    sink.error('CONFIG_VALUE', lines.verify!.loc, `SSLVerifyClient ${verify} needs SSLCACertificateFile: the CA certificates client certificates must chain to`);
  }
  if (!certPem || !keyPem || !chainPem || (lines.caFile && !caPem)) return undefined;
  const [leaf] = pemBlocks(certPem.toString(), certificateKind);
  if (leaf === undefined) {
    sink.error('CONFIG_VALUE', certLine.loc, `SSLCertificateFile: ${certLine.path} holds no PEM certificate`);
    return undefined;
  }
  const keyWhere = lines.keyFile ?? certLine;
  const [keyBlock] = pemBlocks(keyPem.toString(), keyKind);
  if (keyBlock === undefined) {
    const hint = lines.keyFile ? '' : ' (and no SSLCertificateKeyFile names another file)';
    sink.error('CONFIG_VALUE', keyWhere.loc, `${lines.keyFile ? 'SSLCertificateKeyFile' : 'SSLCertificateFile'}: ${keyWhere.path} holds no PEM private key${hint}`);
    return undefined;
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(leaf);
  } catch (err) {
    sink.error('CONFIG_VALUE', certLine.loc, `SSLCertificateFile: ${certLine.path}: not a valid certificate (${(err as Error).message})`);
    return undefined;
  }
  try {
    const key = createPrivateKey(keyBlock);
    if (!certificate.checkPrivateKey(key)) {
      sink.error('CONFIG_VALUE', keyWhere.loc, `${lines.keyFile ? 'SSLCertificateKeyFile' : 'SSLCertificateFile'}: the private key in ${keyWhere.path} does not match the certificate in ${certLine.path}`);
      return undefined;
    }
  } catch (err) {
    const encrypted = /ENCRYPTED/.test(keyBlock) ? ' (an encrypted key: wsgate cannot ask for a pass phrase; store it decrypted, readable only by wsgate)' : '';
    sink.error('CONFIG_VALUE', keyWhere.loc, `${lines.keyFile ? 'SSLCertificateKeyFile' : 'SSLCertificateFile'}: ${keyWhere.path}: cannot read the private key${encrypted}: ${(err as Error).message}`);
    return undefined;
  }
  const validTo = new Date(certificate.validTo);
  if (validTo.getTime() < now.getTime()) {
    sink.warning('CONFIG_VALUE', certLine.loc, `SSLCertificateFile: the certificate in ${certLine.path} (${certificate.subject.replace(/\n/g, ', ')}) expired on ${validTo.toISOString()}; clients will refuse it`);
  }
  const certs = [...pemBlocks(certPem.toString(), certificateKind), ...pemBlocks(chainPem.toString(), certificateKind)].join('\n');
  const protocol = lines.protocol ?? { min: 'TLSv1.2' as const, max: 'TLSv1.3' as const };
  const tls: VhostTls = {
    cert: Buffer.from(certs),
    key: Buffer.from(keyBlock),
    ca: caPem,
    verifyClient: verify,
    minVersion: protocol.min,
    maxVersion: protocol.max,
    ciphers: lines.ciphers?.value,
    ciphersuites: lines.ciphersuites?.value,
    honorCipherOrder: lines.honorCipherOrder ?? false,
    certFile: certLine.path,
  };
  try {
    createSecureContext(secureContextOptions(tls));
  } catch (err) {
    const at = lines.ciphers?.loc ?? lines.ciphersuites?.loc ?? lines.protocol?.loc ?? engineLoc;
    sink.error('CONFIG_VALUE', at, `TLS settings of this virtual host are not usable: ${(err as Error).message}`);
    return undefined;
  }
  return tls;
}

/** The node:tls options of a vhost's context (also what the server uses). */
export function secureContextOptions(tls: VhostTls): import('node:tls').SecureContextOptions {
  return {
    cert: tls.cert,
    key: tls.key,
    ...(tls.ca ? { ca: tls.ca } : {}),
    minVersion: tls.minVersion,
    maxVersion: tls.maxVersion,
    ...(tls.ciphers !== undefined ? { ciphers: tls.ciphers } : {}),
    ...(tls.ciphersuites !== undefined ? { ciphersuites: tls.ciphersuites } : {}),
    honorCipherOrder: tls.honorCipherOrder,
  };
}

function merged(main: TlsLines, own: TlsLines): TlsLines {
  const out: TlsLines = { ...main };
  for (const [k, v] of Object.entries(own)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** Applies every scope's SSL* lines to the config: vhost.tls (SSLEngine, inherited from the main
 *  server), vhost.ssl (terminated here), and checks that every `Listen … https` has a certificate. */
export function finishTls(config: GatewayConfig, scopes: ReadonlyMap<VirtualHostConfig, TlsLines>, sink: DiagnosticSink, now = new Date()): void {
  const main = scopes.get(config.mainServer) ?? {};
  /** What vhosts with no SSL lines of their own get from the main server; null = not built yet. */
  let inherited: VhostTls | undefined | null = null;
  let failed = false;
  for (const vhost of [config.mainServer, ...config.virtualHosts]) {
    const own = scopes.get(vhost) ?? {};
    const lines = vhost.isMain ? own : merged(main, own);
    const engine = lines.engine;
    vhost.tls = engine?.on ?? false;
    const certLine = own.certFile ?? own.keyFile ?? own.chainFile ?? own.caFile;
    if (!vhost.tls) {
      // The main server's lines are inherited by vhosts that turn SSLEngine on.
      if (certLine && !vhost.isMain) sink.warning('CONFIG_DIRECTIVE', certLine.loc, 'SSL certificate directives have no effect without `SSLEngine on` in this server or virtual host');
      continue;
    }
    if (!lines.certFile) {
      // SSLEngine on without a certificate: TLS ends in a proxy in front (Apache), as before.
      if (lines.keyFile) sink.error('CONFIG_VALUE', lines.keyFile.loc, 'SSLCertificateKeyFile without SSLCertificateFile');
      continue;
    }
    // Vhosts that only inherit the main server's files share one context and one report.
    const ownLines = vhost.isMain || Object.entries(own).some(([k, v]) => k !== 'engine' && v !== undefined);
    if (!ownLines && inherited !== null) {
      if (inherited) vhost.ssl = inherited;
      continue;
    }
    const ssl = buildVhostTls(lines, engine!.loc, sink, now);
    if (!ownLines) inherited = ssl;
    if (ssl) vhost.ssl = ssl;
    else failed = true;
  }
  for (const listen of config.listen) {
    // A certificate that failed was reported; "no certificate for this port" would only repeat it.
    if (listen.protocol !== 'https' || failed) continue;
    if (tlsVhostsForPort(config, listen.port).length === 0 && listen.loc) {
      sink.error(
        'CONFIG_VALUE',
        listen.loc,
        `Listen ${listen.port} https: no virtual host on this port has \`SSLEngine on\` with SSLCertificateFile, so there is no certificate to serve (wsgate never falls back to plain text)`,
      );
    }
  }
}

/** The vhosts that serve TLS on `port` (the main server last, as the default of last resort):
 *  the first one is the certificate for clients without SNI. */
export function tlsVhostsForPort(config: GatewayConfig, port: number): VirtualHostConfig[] {
  const vhosts = config.virtualHosts.filter((v) => {
    if (v.isMain || !v.ssl) return false;
    const ports = vhostPortsOf(v.addresses);
    return ports === undefined || ports.has(port);
  });
  return config.mainServer.ssl ? [...vhosts, config.mainServer] : vhosts;
}

/** Whether a listener speaks TLS: `Listen … https`, or a TLS vhost answers on its port. */
export function listenerIsTls(config: GatewayConfig, listener: { port: number; protocol?: string | undefined }): boolean {
  return listener.protocol === 'https' || tlsVhostsForPort(config, listener.port).length > 0;
}
