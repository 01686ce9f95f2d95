// A real gateway (/echo, the message board's /board, and a <LocationMatch>-style echo endpoint
// ^/rooms/[0-9]+$) with the control socket and HTTP API on.
import { join, resolve } from 'node:path';
import type { ControlConfig, EndpointConfig } from '../../src/config/model.js';
import { locationNames, startControl, type RunningControl } from '../../src/control/index.js';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { endpoint, gatewayConfig, jsHandler, repoRoot, testLog } from '../server/config-fixture.js';
import { tempDir } from './helpers.js';
import { connectClient, type Inbox } from './ws-clients.js';

export const liveToken = 'integration-token';
/** The regex endpoint's Location name: its regex source, as written in <LocationMatch>. */
export const roomsLocation = '^/rooms/[0-9]+$';

export interface LiveGateway {
  gw: RunningGateway;
  control: RunningControl;
  socketPath: string;
  httpBase: string;
  /** A fresh client with a unique id, so tests do not see each other's messages. */
  client(path: `/${string}`, extraQuery?: string): Promise<{ id: string; inbox: Inbox }>;
  close(): Promise<void>;
}

let counter = 0;

/** extraEndpoints: more endpoints after the three standard ones (e.g. a native plugin's). */
export async function startLiveGateway(extraEndpoints: EndpointConfig[] = []): Promise<LiveGateway> {
  const tmp = tempDir();
  const socketPath = join(tmp.dir, 'control.sock');
  const loc = { file: 'test.conf', line: 3, column: 1 };
  const control: ControlConfig = { socket: { path: socketPath, mode: 0o660, loc }, listen: { host: '127.0.0.1', port: 0, loc }, token: liveToken };
  const board = jsHandler(resolve(repoRoot, 'handlers/board/board.mjs'));
  const config = gatewayConfig([endpoint('/echo'), endpoint('/board', { handler: board }), endpoint(roomsLocation, { regex: true }), ...extraEndpoints], {
    control,
  });
  const gw = await startGateway(config, { log: testLog });
  let running: RunningControl;
  try {
    running = await startControl(config.control, gw.registry, testLog, { locations: locationNames(config.endpoints) });
  } catch (err) {
    await gw.close();
    tmp.remove();
    throw err;
  }
  const wsBase = `ws://127.0.0.1:${gw.addresses[0]!.port}`;
  return {
    gw,
    control: running,
    socketPath,
    httpBase: `http://127.0.0.1:${running.httpAddress!.port}`,
    async client(path, extraQuery = '') {
      const id = `c${++counter}-${process.pid}`;
      return { id, inbox: await connectClient(`${wsBase}${path}?id=${id}${extraQuery}`) };
    },
    async close() {
      await running.close();
      await gw.close();
      tmp.remove();
    },
  };
}

/** The two ways `wsgate ctl` reaches the live gateway: its socket, and its HTTP API with the token. */
export function ctlTransports(live: LiveGateway): Array<{ name: string; args: string[]; env: NodeJS.ProcessEnv }> {
  return [
    { name: 'socket', args: ['--socket', live.socketPath], env: {} },
    { name: 'http', args: ['--url', live.httpBase], env: { WSGATE_CONTROL_TOKEN: liveToken } },
  ];
}
