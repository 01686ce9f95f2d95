// Who is the client? The TCP peer, unless the peer is a trusted proxy (mod_remoteip semantics):
// then the right-most address of the forwarding header that is not itself a trusted proxy.
import { BlockList, isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import type { RemoteIpConfig } from '../config/model.js';

export interface ClientAddress {
  address: string;
  /** True when the TCP peer is a trusted proxy (so its X-Forwarded-Host/-Proto are believed). */
  viaTrustedProxy: boolean;
  /** X-Forwarded-Host (first entry: the host the client asked for) from a trusted proxy. */
  forwardedHost: string | undefined;
  /** X-Forwarded-Proto (first entry) from a trusted proxy. */
  forwardedProto: string | undefined;
}

/** `::ffff:10.0.0.1` → `10.0.0.1`, so IPv4 rules match IPv4-mapped peers of a dual-stack socket. */
export function unmapIPv4(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export class TrustedProxies {
  private readonly list = new BlockList();
  readonly size: number;

  constructor(entries: readonly string[]) {
    for (const entry of entries) this.add(entry);
    this.size = entries.length;
  }

  private add(entry: string): void {
    const [rawAddress, prefix] = entry.split('/', 2) as [string, string | undefined];
    const address = unmapIPv4(rawAddress);
    const family = isIP(address);
    if (family === 0) throw new Error(`not an IP address or CIDR range: ${entry}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) this.list.addAddress(address, type);
    else this.list.addSubnet(address, Number(prefix), type);
  }

  has(address: string): boolean {
    if (this.size === 0) return false;
    const plain = unmapIPv4(address);
    const family = isIP(plain);
    return family !== 0 && this.list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  }
}

function firstEntry(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  const first = text?.split(',', 1)[0]?.trim();
  return first ? first : undefined;
}

function headerEntries(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const text = Array.isArray(value) ? value.join(',') : value;
  return text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

export function resolveClientAddress(
  peer: string,
  headers: IncomingHttpHeaders,
  config: RemoteIpConfig,
  trusted: TrustedProxies,
): ClientAddress {
  const peerAddress = unmapIPv4(peer);
  if (!trusted.has(peerAddress)) {
    return { address: peerAddress, viaTrustedProxy: false, forwardedHost: undefined, forwardedProto: undefined };
  }
  let address = peerAddress;
  if (config.header !== undefined) {
    const entries = headerEntries(headers[config.header.toLowerCase()]);
    // Walk right to left while each hop is a proxy we trust; stop at the first untrusted one
    // (or at garbage, keeping the last address we could vouch for).
    for (let i = entries.length - 1; i >= 0; i--) {
      const candidate = unmapIPv4(entries[i]!);
      if (isIP(candidate) === 0) break;
      address = candidate;
      if (!trusted.has(candidate)) break;
    }
  }
  return {
    address,
    viaTrustedProxy: true,
    forwardedHost: firstEntry(headers['x-forwarded-host']),
    forwardedProto: firstEntry(headers['x-forwarded-proto'])?.toLowerCase(),
  };
}
