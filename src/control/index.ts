// The push channel: the control socket and the HTTP control API over one registry.
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ControlConfig } from '../config/model.js';
import type { RegistryClient } from '../registry/types.js';
import { controlLimits } from './commands.js';
import type { CommandObserver, ServiceProbe } from './probe.js';
import { startHttpServer, type RunningHttpServer } from './http-server.js';
import { startSocketServer, type RunningSocketServer } from './socket-server.js';

export interface RunningControl {
  socketPath: string | undefined;
  httpAddress: AddressInfo | undefined;
  /** WebSocketMetricsListen's bound address. */
  metricsAddress: AddressInfo | undefined;
  close(): Promise<void>;
}

export interface ControlOptions {
  /** The config's Location names (a <LocationMatch>'s is its regex source): the control socket
   *  then knows them as Locations even while no connection is at one. */
  locations?: readonly string[];
  /** Answers /metrics, /readyz and STATUS (GET /status). */
  probe?: ServiceProbe;
  /** Hears each command's verb and result. */
  onCommand?: CommandObserver;
}

/** Starts what `control` configures (either, both or neither). Throws WsgateError (with the
 *  directive's loc) when a listener cannot start; nothing is left running then. */
export async function startControl(control: ControlConfig, registry: RegistryClient, log: Logger, options: ControlOptions = {}): Promise<RunningControl> {
  const clog = log.child({ component: 'control' });
  let socket: RunningSocketServer | undefined;
  let http: RunningHttpServer | undefined;
  let metrics: RunningHttpServer | undefined;
  const { probe, onCommand } = options;
  try {
    if (control.socket) {
      const { maxLineBytes, maxPayloadBytes } = controlLimits(control.maxPayload);
      const limits = { maxLineBytes, maxPayloadBytes };
      socket = await startSocketServer({ ...control.socket, registry, log: clog, limits, probe, onCommand, ...(options.locations && { locations: options.locations }) });
    }
    if (control.listen) {
      http = await startHttpServer({ ...control.listen, token: control.token, registry, log: clog, maxPayload: control.maxPayload, probe, onCommand });
    }
    if (control.metricsListen) {
      metrics = await startHttpServer({ ...control.metricsListen, token: control.token, registry, log: clog, probe, metricsOnly: true });
    }
  } catch (err) {
    await Promise.all([socket?.close(), http?.close()]);
    throw err;
  }
  return {
    socketPath: socket?.path,
    httpAddress: http?.address,
    metricsAddress: metrics?.address,
    async close() {
      await Promise.all([socket?.close(), http?.close(), metrics?.close()]);
    },
  };
}

export { ControlLimits, type ControlCommand, type ControlResult } from './commands.js';
export type { ConnectionInfo } from './connection-info.js';
export type { CommandObserver, HealthCheck, HealthReport, LocationStatus, ServiceProbe, StatusReport, WorkerStatus } from './probe.js';
export { locationNames } from './locations.js';
