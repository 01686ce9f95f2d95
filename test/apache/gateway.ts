// Starts the real gateway in-process for the Apache tests and builds the Apache side from it.
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { createLogger } from '../../src/log.js';
import type { EndpointConfig, EndpointSettings, GatewayConfig } from '../../src/config/model.js';
import { gatewayConfig, mainServer, prefixEndpoint, regexEndpoint } from './model.js';

export const repoRoot = join(import.meta.dirname, '..', '..');
export const probeHandler = join(repoRoot, 'test', 'fixtures', 'apache', 'handlers', 'probe.mjs');
export const dumbIncrementHandler = join(repoRoot, 'handlers', 'dumb-increment.mjs');

const silent = createLogger({ level: 'silent', destination: { write: () => true } as unknown as Writable });

export function jsEndpoint(path: string, handler: string, settings: Partial<EndpointSettings> = {}, regex = false): EndpointConfig {
  const endpoint = regex ? regexEndpoint(mainServer(), path, 1, settings) : prefixEndpoint(mainServer(), path, 1, settings);
  return { ...endpoint, handler: { kind: 'js', path: handler, exportName: undefined, loc: endpoint.loc } };
}

export function configFor(endpoints: EndpointConfig[], extra: Partial<GatewayConfig> = {}): GatewayConfig {
  const main = mainServer();
  return { ...gatewayConfig(endpoints.map((e) => ({ ...e, vhost: main })), 0), mainServer: main, serverRoot: repoRoot, ...extra };
}

/** Starts the gateway on 127.0.0.1 (port 0 unless given); `port` is the bound port. */
export async function runGateway(config: GatewayConfig, port = 0): Promise<RunningGateway & { port: number }> {
  const running = await startGateway(config, { log: silent, listen: [{ host: '127.0.0.1', port, loc: undefined }] });
  const bound = running.addresses[0];
  if (!bound) throw new Error('gateway bound no address');
  return Object.assign(running, { port: bound.port });
}
