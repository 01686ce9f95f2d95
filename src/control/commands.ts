// What a control client can ask for, independent of the transport (line protocol or HTTP).
import type { ConnectionFilter } from '../plugins/types.js';
import type { ConnectionInfo } from './connection-info.js';
import type { StatusReport } from './probe.js';

export type ControlCommand =
  | { kind: 'ping' }
  | { kind: 'quit' }
  | { kind: 'help' }
  /** The gateway's status page as JSON (STATUS, GET /status). */
  | { kind: 'status' }
  /** detail false: `ID HOST:PORT` lines; true: one JSON object per connection. */
  | { kind: 'list'; filter: ConnectionFilter; detail: boolean }
  | { kind: 'info'; id: string }
  /** data is a string for a text frame, a Buffer for a binary frame. */
  | { kind: 'send'; id: string; data: string | Buffer }
  | { kind: 'broadcast'; filter: ConnectionFilter; data: string | Buffer }
  | { kind: 'close'; id: string; code: number | undefined; reason: string | undefined }
  | { kind: 'join'; id: string; group: string }
  | { kind: 'leave'; id: string; group: string };

export type ControlResult =
  | { kind: 'pong' }
  | { kind: 'bye' }
  | { kind: 'help'; lines: string[] }
  | { kind: 'status'; report: StatusReport }
  /** unreachable: workers that did not answer in time (their connections are missing). */
  | { kind: 'list'; detail: boolean; connections: ConnectionInfo[]; unreachable: string[] }
  | { kind: 'info'; connection: ConnectionInfo }
  /** unreachable: workers that did not answer in time (they may or may not have delivered it). */
  | { kind: 'sent'; count: number; unreachable: string[] }
  | { kind: 'closed' }
  | { kind: 'joined' }
  | { kind: 'left' };

/** Commands whose success carries no data. */
export type AcknowledgedCommand = Extract<ControlCommand, { kind: 'ping' | 'quit' | 'close' | 'join' | 'leave' }>;

const acknowledgements = { ping: 'pong', quit: 'bye', close: 'closed', join: 'joined', leave: 'left' } as const;

export function isAcknowledged(command: ControlCommand): command is AcknowledgedCommand {
  return command.kind in acknowledgements;
}

/** The data-less result of an acknowledged command (both transports and both clients use it). */
export function acknowledgement(command: AcknowledgedCommand): ControlResult {
  return { kind: acknowledgements[command.kind] };
}

/** Limits shared by both transports (defaults; WebSocketControlMaxPayload changes them). */
export const ControlLimits = {
  /** Longest command line, terminator excluded: a 1 MiB text message plus its command words. */
  maxLineBytes: 1024 * 1024 + 4096,
  /** Largest payload of SENDB/SENDT/BROADCASTB/BROADCASTT and of an HTTP send: well below
   *  MaxMessageSize (32 MiB), so unfinished commands cannot pin much memory. */
  maxPayloadBytes: 1024 * 1024,
} as const;

export interface ControlLimitValues {
  maxLineBytes: number;
  maxPayloadBytes: number;
  /** An HTTP body: room for a maximal payload in base64 inside JSON. */
  maxBodyBytes: number;
}

/** The limits for a WebSocketControlMaxPayload (undefined: the defaults). */
export function controlLimits(maxPayload: number = ControlLimits.maxPayloadBytes): ControlLimitValues {
  return { maxLineBytes: maxPayload + 4096, maxPayloadBytes: maxPayload, maxBodyBytes: Math.ceil((maxPayload * 4) / 3) + 64 * 1024 };
}
