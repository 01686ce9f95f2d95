// Which gateway ports a <VirtualHost> answers on. Apache picks vhosts by the port the connection
// arrived on; a config carried over from Apache often says `*:80` while the gateway listens elsewhere,
// and such a vhost is then never chosen. unreachableVhosts() finds those so startup can say so.
import type { Logger } from 'pino';
import type { GatewayConfig, VirtualHostConfig } from '../config/model.js';
import { vhostPortsOf } from '../config/vhost-ports.js';

export { addressPort } from '../config/vhost-ports.js';

/** The ports a vhost is limited to; undefined when any address on its line accepts any port. */
export function vhostPorts(vhost: VirtualHostConfig): Set<number> | undefined {
  return vhostPortsOf(vhost.addresses);
}

/** The vhosts (main server excluded) whose ports are all ports the gateway does not listen on. */
export function unreachableVhosts(config: GatewayConfig, listeningPorts: Iterable<number>): VirtualHostConfig[] {
  const listening = new Set(listeningPorts);
  return config.virtualHosts.filter((vhost) => {
    if (vhost.isMain) return false;
    const ports = vhostPorts(vhost);
    return ports !== undefined && ![...ports].some((p) => listening.has(p));
  });
}

/** A vhost is chosen by port as in Apache; one copied from Apache's side (*:80) never matches here. */
export function warnUnreachableVhosts(config: GatewayConfig, ports: number[], log: Logger): void {
  for (const vhost of unreachableVhosts(config, ports)) {
    const where = vhost.loc ? `${vhost.loc.file}:${vhost.loc.line}` : undefined;
    log.warn(
      { vhost: vhost.addresses.join(' '), serverName: vhost.serverName, where },
      'no listener has this <VirtualHost> port: its Locations are unreachable (use *:PORT of a Listen line, or *)',
    );
  }
}
