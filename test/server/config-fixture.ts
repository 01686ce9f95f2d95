// GatewayConfig objects built by hand, so server tests do not depend on the config parser.
import { defaultProcessConfig } from '../../src/config/schema.js';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { EndpointConfig, EndpointSettings, GatewayConfig, HandlerSpec, VirtualHostConfig } from '../../src/config/model.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const fixtureHandlers = resolve(repoRoot, 'test/fixtures/handlers');

const loc = (line = 1) => ({ file: 'test.conf', line, column: 1 });

export const defaultSettings: EndpointSettings = {
  maxMessageSize: 33554432,
  supportDraft75: false,
  originCheck: 'off',
  trustedOrigins: [],
  maxConnections: 0,
  pingInterval: 0,
  handshakeTimeout: 10,
  closeTimeout: 2,
  allowReservedStatusCodes: false,
  sendQueueLimit: 16 * 1024 * 1024,
  connectionLog: true,
  compression: false,
  compressionThreshold: 1024,
  compressionContextTakeover: false,
  compressionWindowBits: 15,
};

export const mainServer: VirtualHostConfig = {
  addresses: [],
  serverName: undefined,
  serverAliases: [],
  isMain: true,
  tls: false,
  loc: undefined,
};

let nextLine = 10;

export function vhost(serverName: string | undefined, aliases: string[] = [], addresses = ['*']): VirtualHostConfig {
  return { addresses, serverName, serverAliases: aliases, isMain: false, tls: false, loc: loc(nextLine++) };
}

export function jsHandler(path: string, exportName?: string): HandlerSpec {
  return { kind: 'js', path, exportName, loc: loc(nextLine++) };
}

export const echoHandler = (): HandlerSpec => jsHandler(resolve(repoRoot, 'handlers/echo.mjs'));
export const fixture = (name: string, exportName?: string): HandlerSpec => jsHandler(resolve(fixtureHandlers, name), exportName);

export interface EndpointOptions {
  handler?: HandlerSpec;
  vhost?: VirtualHostConfig;
  settings?: Partial<EndpointSettings>;
  regex?: boolean;
}

export function endpoint(path: string, options: EndpointOptions = {}): EndpointConfig {
  const match = options.regex ? { kind: 'regex' as const, source: path, regex: new RegExp(path) } : { kind: 'prefix' as const, path };
  return {
    vhost: options.vhost ?? mainServer,
    match,
    handler: options.handler ?? echoHandler(),
    settings: { ...defaultSettings, ...options.settings },
    loc: loc(nextLine++),
  };
}

export function gatewayConfig(endpoints: EndpointConfig[], extra: Partial<GatewayConfig> = {}): GatewayConfig {
  const vhosts = [...new Set(endpoints.map((e) => e.vhost).filter((v) => !v.isMain))];
  return {
    file: resolve(repoRoot, 'test.conf'),
    serverRoot: repoRoot,
    listen: [{ host: '127.0.0.1', port: 0, loc: undefined }],
    processes: defaultProcessConfig(),
    logLevel: 'info',
    mainServer,
    virtualHosts: vhosts,
    endpoints,
    loadedModules: [],
    defines: {},
    remoteIp: { header: undefined, trustedProxies: [] },
    control: { socket: undefined, listen: undefined, token: undefined },
    ignored: [],
    ...extra,
  };
}

/** A silent logger; set WSGATE_TEST_LOG=debug to see the gateway's logs. */
export const testLog = pino({ level: process.env.WSGATE_TEST_LOG ?? 'silent' });
