// The ports a <VirtualHost> line names. Apache picks vhosts by the port a connection arrived on;
// the router (server/) and the TLS setup (which listeners need a certificate) both ask.

/** The port of `addr:port` (`[v6]:port` too); undefined for `*`, `*:*`, `_default_` or a bare host. */
export function addressPort(address: string): number | undefined {
  const match = /^(?:\[[^\]]*\]|[^:[\]]*):(\d+)$/.exec(address.trim());
  return match ? Number(match[1]) : undefined;
}

/** The ports a vhost's addresses are limited to; undefined when any of them accepts any port. */
export function vhostPortsOf(addresses: readonly string[]): Set<number> | undefined {
  const ports = addresses.map(addressPort);
  if (ports.length === 0 || ports.includes(undefined)) return undefined;
  return new Set(ports as number[]);
}
