// Binding a listening socket with an error a user can act on: which address (and config line),
// and why the system refused it. Used by the single-process gateway and the supervisor alike.
import type { AddressInfo, Server } from 'node:net';
import type { ListenAddress } from './config/model.js';
import { formatHostPort } from './config/values.js';
import { WsgateError } from './errors.js';

/** What a user can act on: which address, and why the system refused it. */
export function listenFailure(address: ListenAddress, err: NodeJS.ErrnoException): string {
  const where = address.host === undefined ? `*:${address.port}` : formatHostPort(address.host, address.port);
  switch (err.code) {
    case 'EADDRINUSE':
      return `${where} is in use by another process (EADDRINUSE)`;
    case 'EACCES':
      return `cannot listen on ${where}: permission denied (EACCES; ports below 1024 need root or CAP_NET_BIND_SERVICE)`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: no network interface of this machine has that address (EADDRNOTAVAIL)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot listen on ${where}: the host name does not resolve (${err.code})`;
    default:
      return `cannot listen on ${where}: ${err.message}`;
  }
}

export function listenOn(server: Server, address: ListenAddress): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new WsgateError('IO', listenFailure(address, err), { cause: err, ...(address.loc ? { loc: address.loc } : {}) }));
    };
    server.once('error', onError);
    server.listen({ host: address.host, port: address.port }, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}
