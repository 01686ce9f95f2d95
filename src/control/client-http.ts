// ControlCommand → HTTP control API request, and its JSON answer → ControlResult.
import { WsgateError } from '../errors.js';
import type { ConnectionFilter } from '../plugins/types.js';
import { acknowledgement, isAcknowledged, type ControlCommand, type ControlResult } from './commands.js';
import type { ConnectionInfo } from './connection-info.js';
import type { StatusReport } from './probe.js';

export function requestFor(command: ControlCommand): { path: string; init: RequestInit } {
  const id = (value: string): string => encodeURIComponent(value);
  switch (command.kind) {
    case 'list':
      return { path: `/connections${query(command.filter)}`, init: { method: 'GET' } };
    case 'info':
      return { path: `/connections/${id(command.id)}`, init: { method: 'GET' } };
    case 'status':
      return { path: '/status', init: { method: 'GET' } };
    case 'send':
      return { path: `/connections/${id(command.id)}/send`, init: messageInit(command.data) };
    case 'broadcast':
      return { path: `/broadcast${query(command.filter)}`, init: messageInit(command.data) };
    case 'close':
      return {
        path: `/connections/${id(command.id)}/close`,
        init: { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code: command.code, reason: command.reason }) },
      };
    case 'join':
    case 'leave':
      return { path: `/connections/${id(command.id)}/groups/${id(command.group)}`, init: { method: command.kind === 'join' ? 'PUT' : 'DELETE' } };
    case 'ping':
    case 'quit':
    case 'help':
      throw socketOnly(command.kind);
  }
}

export function resultFromJson(command: ControlCommand, json: Record<string, unknown>): ControlResult {
  if (command.kind === 'ping' || command.kind === 'quit' || command.kind === 'help') throw socketOnly(command.kind);
  if (isAcknowledged(command)) return acknowledgement(command);
  switch (command.kind) {
    case 'list':
      return { kind: 'list', detail: true, connections: (json.connections ?? []) as ConnectionInfo[], unreachable: unreachableOf(json) };
    case 'info':
      return { kind: 'info', connection: json as unknown as ConnectionInfo };
    case 'status':
      return { kind: 'status', report: json as unknown as StatusReport };
    case 'send':
    case 'broadcast':
      return { kind: 'sent', count: Number(json.sent ?? 0), unreachable: unreachableOf(json) };
  }
}

function unreachableOf(json: Record<string, unknown>): string[] {
  return Array.isArray(json.unreachable) ? json.unreachable.map(String) : [];
}

function socketOnly(kind: string): WsgateError {
  return new WsgateError('USAGE', `${kind} exists only on the control socket`);
}

function messageInit(data: string | Buffer): RequestInit {
  return typeof data === 'string'
    ? { method: 'POST', headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: data }
    : { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: new Uint8Array(data) };
}

function query(filter: ConnectionFilter): string {
  const params = new URLSearchParams();
  if (filter.location !== undefined) params.set('location', filter.location);
  if (filter.group !== undefined) params.set('group', filter.group);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
