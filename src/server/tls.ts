// TLS termination (wss://): one https.Server per TLS listener port, fed the raw sockets (the
// supervisor's or its own listener's), so node runs the handshake, its timeout and its errors.
// SNI picks the vhost's certificate; the certificate request is per port (node decides it before
// SNI), so SSLVerifyClient is enforced per vhost again at the WebSocket handshake.
import type { X509Certificate } from 'node:crypto';
import type { ServerOptions } from 'node:https';
import type { Socket } from 'node:net';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import type { GatewayConfig, VerifyClient, VhostTls, VirtualHostConfig } from '../config/model.js';
import { listenerIsTls, secureContextOptions, tlsVhostsForPort } from '../config/tls.js';
import { WsgateError } from '../errors.js';
import type { ClientCertificate } from '../plugins/types.js';
import { configuredHostName, hostName } from './host-name.js';
import { wildcardToRegExp } from './router.js';

interface Site {
  vhost: VirtualHostConfig;
  ssl: VhostTls;
  names: RegExp[];
  context: SecureContext;
}

const strictness: Record<VerifyClient, number> = { none: 0, optional: 1, require: 2 };

/** True for a socket that came through one of our TLS servers. */
export function isTlsSocket(socket: Socket): socket is TLSSocket {
  return (socket as Partial<TLSSocket>).encrypted === true;
}

/** RFC 2253 order, as Apache's SSL_CLIENT_S_DN: `CN=alice,O=Example`. */
function distinguishedName(text: string): string {
  return text.split('\n').reverse().join(',');
}

export function describeCertificate(cert: X509Certificate): ClientCertificate {
  return {
    subject: distinguishedName(cert.subject),
    issuer: distinguishedName(cert.issuer),
    fingerprint256: cert.fingerprint256,
    serialNumber: cert.serialNumber,
    validTo: new Date(cert.validTo).toISOString(),
  };
}

export class TlsSites {
  /** One context per distinct VhostTls (vhosts inheriting the main server's share it). */
  private readonly contexts = new Map<VhostTls, SecureContext>();
  private readonly byPort = new Map<number, Site[]>();

  constructor(private readonly config: GatewayConfig) {}

  /** Whether sockets from this listener must be TLS. */
  isTls(listener: { port: number; protocol?: string | undefined }): boolean {
    return listenerIsTls(this.config, listener);
  }

  /** The https.Server options of a TLS listener port; undefined when no vhost has a certificate for it. */
  serverOptions(port: number): ServerOptions | undefined {
    const sites = this.sitesFor(port);
    const first = sites[0];
    if (!first) return undefined;
    const requestCert = sites.some((s) => s.ssl.verifyClient !== 'none');
    return {
      ...secureContextOptions(first.ssl),
      // Node builds the default context from these; SNI then swaps in the vhost's.
      SNICallback: (servername, done) => done(null, (this.siteFor(sites, servername) ?? first).context),
      requestCert,
      // A TLS alert only when every vhost of the port requires a certificate; otherwise the
      // handshake (handleUpgrade) refuses per vhost.
      rejectUnauthorized: requestCert && sites.every((s) => s.ssl.verifyClient === 'require'),
      ALPNProtocols: ['http/1.1'],
    };
  }

  /** The client certificate to hand to handlers, after SSLVerifyClient of the vhost the client
   *  reached (by SNI) and of the endpoint's: the stricter wins. Throws 403 when refused. */
  clientCertificate(socket: Socket, endpointVhost: VirtualHostConfig): ClientCertificate | undefined {
    if (!isTlsSocket(socket)) return undefined;
    const port = socket.localPort ?? 0;
    const reached = this.siteFor(this.sitesFor(port), socket.servername || undefined);
    const policies: VerifyClient[] = [reached?.ssl.verifyClient ?? 'none', endpointVhost.ssl?.verifyClient ?? 'none'];
    const policy = policies.reduce((a, b) => (strictness[b] > strictness[a] ? b : a));
    const peer = socket.getPeerX509Certificate();
    if (peer && socket.authorized) return describeCertificate(peer);
    if (policy === 'require') {
      const why = peer ? `it does not verify (${String(socket.authorizationError)})` : 'none was sent';
      throw new WsgateError('HANDSHAKE_FORBIDDEN', `a client certificate is required here (SSLVerifyClient require): ${why}`, { status: 403 });
    }
    if (peer && policy === 'optional') {
      throw new WsgateError('HANDSHAKE_FORBIDDEN', `the client certificate does not verify (${String(socket.authorizationError)})`, { status: 403 });
    }
    return undefined;
  }

  private sitesFor(port: number): Site[] {
    const known = this.byPort.get(port);
    if (known) return known;
    const sites = tlsVhostsForPort(this.config, port).map((vhost) => {
      const ssl = vhost.ssl!;
      let context = this.contexts.get(ssl);
      if (!context) this.contexts.set(ssl, (context = createSecureContext(secureContextOptions(ssl))));
      const names = [vhost.serverName, ...vhost.serverAliases].map((n) => (n ? configuredHostName(n) : undefined));
      return { vhost, ssl, context, names: names.filter((n): n is string => n !== undefined).map(wildcardToRegExp) };
    });
    this.byPort.set(port, sites);
    return sites;
  }

  /** The vhost whose ServerName/ServerAlias is the SNI name, else the port's first. */
  private siteFor(sites: Site[], servername: string | undefined): Site | undefined {
    const name = hostName(servername);
    const named = name !== undefined && name.length <= 253 ? sites.find((s) => s.names.some((r) => r.test(name))) : undefined;
    return named ?? sites[0];
  }
}
