// Hand-built GatewayConfig values for generator tests (no parser involved).
import type { EndpointConfig, EndpointSettings, GatewayConfig, VirtualHostConfig } from '../../src/config/model.js';
import { defaultEndpointSettings, defaultProcessConfig } from '../../src/config/schema.js';

export const configFile = '/srv/wsgate/wsgate.conf';
const at = (line: number) => ({ file: configFile, line, column: 1 });

export const defaultSettings: EndpointSettings = { ...defaultEndpointSettings(), originCheck: 'off' };

export function mainServer(): VirtualHostConfig {
  return { addresses: [], serverName: undefined, serverAliases: [], isMain: true, tls: false, loc: undefined };
}

export function vhost(addresses: string[], serverName: string, line: number, extra: Partial<VirtualHostConfig> = {}): VirtualHostConfig {
  return { addresses, serverName, serverAliases: [], isMain: false, tls: false, loc: at(line), ...extra };
}

export function prefixEndpoint(vh: VirtualHostConfig, path: string, line: number, settings: Partial<EndpointSettings> = {}): EndpointConfig {
  return {
    vhost: vh,
    match: { kind: 'prefix', path },
    handler: { kind: 'js', path: '/srv/wsgate/handlers/echo.mjs', exportName: undefined, loc: at(line + 2) },
    settings: { ...defaultSettings, ...settings },
    loc: at(line),
  };
}

export function regexEndpoint(vh: VirtualHostConfig, source: string, line: number, settings: Partial<EndpointSettings> = {}): EndpointConfig {
  return { ...prefixEndpoint(vh, '', line, settings), match: { kind: 'regex', source, regex: new RegExp(source) } };
}

export function gatewayConfig(endpoints: EndpointConfig[], port = 8080): GatewayConfig {
  const main = endpoints.find((e) => e.vhost.isMain)?.vhost ?? mainServer();
  const vhosts = [...new Set(endpoints.map((e) => e.vhost).filter((v) => !v.isMain))];
  return {
    file: configFile,
    serverRoot: '/srv/wsgate',
    listen: [{ host: '127.0.0.1', port, loc: at(1) }],
    processes: defaultProcessConfig(),
    logLevel: 'info',
    mainServer: main,
    virtualHosts: vhosts,
    endpoints,
    loadedModules: [],
    defines: {},
    remoteIp: { header: undefined, trustedProxies: [] },
    control: { socket: undefined, listen: undefined, token: undefined },
    ignored: [],
  };
}
