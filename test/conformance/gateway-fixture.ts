// One real gateway per test file, configured by hand (no config parser involved), on 127.0.0.1:0.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { createLogger } from '../../src/log.js';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { defaultEndpointSettings, defaultProcessConfig } from '../../src/config/schema.js';
import type { EndpointConfig, EndpointSettings, GatewayConfig, HandlerSpec, VirtualHostConfig } from '../../src/config/model.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The shipped echo handler: what users run is what gets graded. */
export const echoHandlerPath = path.resolve(here, '../../handlers/echo.mjs');
const declineHandlerPath = path.join(here, 'fixtures/decline.mjs');

export const SMALL_LIMIT = 1024;

const loc = { file: path.join(here, 'conformance.conf'), line: 1, column: 1 };

/** The schema's defaults, minus what would add unrelated checks: no Origin check, a short close
 *  timeout, and no keepalive pings unless WSGATE_CONFORMANCE_PING_INTERVAL sets them (keepalive.test.ts
 *  runs the whole suite again with 1 s: pings only go to idle connections, so no verdict may change). */
const defaults: EndpointSettings = {
  ...defaultEndpointSettings(),
  originCheck: 'off',
  pingInterval: Number(process.env.WSGATE_CONFORMANCE_PING_INTERVAL ?? 0),
  closeTimeout: 2,
};

const mainServer: VirtualHostConfig = { addresses: [], serverName: undefined, serverAliases: [], isMain: true, tls: false, loc: undefined };

function endpoint(location: string, handler: string | HandlerSpec, settings: Partial<EndpointSettings>): EndpointConfig {
  return {
    vhost: mainServer,
    match: { kind: 'prefix', path: location },
    handler: typeof handler === 'string' ? { kind: 'js', path: handler, exportName: undefined, loc } : handler,
    settings: { ...defaults, ...settings },
    loc,
  };
}

/** The example C echo plugin, built by scripts/build-native.mjs (the native engineer's build). */
export const nativeEchoPath = path.resolve(here, '../../build/plugins/echo.so');

export function buildNativeEcho(): void {
  const result = spawnSync(process.execPath, [path.resolve(here, '../../scripts/build-native.mjs'), '--quiet'], { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0 || !existsSync(nativeEchoPath)) throw new Error(`build-native failed: ${result.stderr}`);
}

export interface GatewayOptions {
  /** Also serve /native-echo with the C echo plugin (build it first with buildNativeEcho). */
  nativeEcho?: boolean;
  /** Also serve /record: an echo that records onDisconnect calls (see disconnectsOf). */
  recorder?: boolean;
}

export interface RecordedDisconnect {
  id: string;
  code: number;
  reason: string;
}

/** onDisconnect calls the /record handler saw for connection `id`. */
export function disconnectsOf(id: string): RecordedDisconnect[] {
  const all = (globalThis as { __wsgateConformanceDisconnects?: RecordedDisconnect[] }).__wsgateConformanceDisconnects ?? [];
  return all.filter((d) => d.id === id);
}

/** /echo, /decline (403), /limited (1 connection), /small (1024-byte messages), /draft75 (SupportDraft75 On),
 *  optionally /native-echo. */
export function conformanceConfig(common: Partial<EndpointSettings> = {}, options: GatewayOptions = {}): GatewayConfig {
  return {
    file: loc.file,
    serverRoot: here,
    listen: [{ host: '127.0.0.1', port: 0, loc: undefined }],
    processes: defaultProcessConfig(),
    logLevel: 'error',
    mainServer,
    virtualHosts: [],
    endpoints: [
      endpoint('/echo', echoHandlerPath, common),
      endpoint('/decline', declineHandlerPath, common),
      endpoint('/limited', echoHandlerPath, { ...common, maxConnections: 1 }),
      endpoint('/small', echoHandlerPath, { ...common, maxMessageSize: SMALL_LIMIT }),
      endpoint('/draft75', echoHandlerPath, { ...common, supportDraft75: true }),
      ...(options.nativeEcho === true ? [endpoint('/native-echo', { kind: 'native', path: nativeEchoPath, init: 'echo_init', loc }, common)] : []),
      ...(options.recorder === true ? [endpoint('/record', path.join(here, 'fixtures/recorder.mjs'), { ...common, maxMessageSize: SMALL_LIMIT })] : []),
    ],
    loadedModules: [],
    defines: {},
    remoteIp: { header: undefined, trustedProxies: [] },
    control: { socket: undefined, listen: undefined, token: undefined },
    ignored: [],
  };
}

export interface ConformanceGateway {
  port: number;
  close(): Promise<void>;
}

/** Set WSGATE_TEST_LOG=debug to see the server's log while a case fails. */
export async function startConformanceGateway(common: Partial<EndpointSettings> = {}, options: GatewayOptions = {}): Promise<ConformanceGateway> {
  const level = (process.env.WSGATE_TEST_LOG ?? 'silent') as 'silent';
  const running: RunningGateway = await startGateway(conformanceConfig(common, options), { log: createLogger({ level, pretty: false }) });
  const address = running.addresses.find((a) => a.address === '127.0.0.1') ?? running.addresses[0];
  if (address === undefined) throw new Error('gateway reported no listening address');
  return { port: address.port, close: () => running.close() };
}
