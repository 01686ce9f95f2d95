// The HTTP control API's routes → ControlCommand, and ControlResult → JSON.
//   GET    /connections[?location=&group=]      {"connections": [ConnectionInfo…]}
//   GET    /connections/ID                      ConnectionInfo
//   POST   /connections/ID/send                 {"sent": 1}        body: see http-body.ts
//   POST   /connections/ID/close                {"closed": true}   body: {"code", "reason"} or empty
//   PUT    /connections/ID/groups/GROUP         {"joined": true}
//   DELETE /connections/ID/groups/GROUP         {"left": true}
//   POST   /broadcast[?location=&group=]        {"sent": n}
//   GET    /status                              StatusReport (probe.ts)
// GET /metrics, /healthz and /readyz are answered by http-server.ts (not commands).
// LIST and broadcast answers carry "unreachable": [worker…] when some workers did not answer.
import { WsgateError } from '../errors.js';
import type { ConnectionFilter } from '../plugins/types.js';
import type { ControlCommand, ControlResult } from './commands.js';
import { closeFromBody, messageFromBody } from './http-body.js';

export interface Route {
  /** Methods the path accepts (for 405 + Allow). */
  allow: string[];
  /** undefined when the method is not in `allow`. */
  command: ((body: Buffer, contentType: string | undefined) => ControlCommand) | undefined;
  readsBody: boolean;
}

/** undefined → 404. */
export function matchRoute(method: string, url: URL): Route | undefined {
  const parts = pathSegments(url.pathname);
  const filter = filterFrom(url.searchParams);
  const [first, id, action, group, ...extra] = parts;
  if (extra.length > 0) return undefined;
  if (first === 'broadcast' && id === undefined) {
    return pick(method, { POST: (body, type) => ({ kind: 'broadcast', filter, data: messageFromBody(type, body) }) });
  }
  if (first === 'status' && id === undefined) return pick(method, { GET: () => ({ kind: 'status' }) });
  if (first !== 'connections') return undefined;
  if (id === undefined) return pick(method, { GET: () => ({ kind: 'list', detail: true, filter }) });
  if (action === undefined) return pick(method, { GET: () => ({ kind: 'info', id }) });
  if (action === 'send' && group === undefined) {
    return pick(method, { POST: (body, type) => ({ kind: 'send', id, data: messageFromBody(type, body) }) });
  }
  if (action === 'close' && group === undefined) return pick(method, { POST: (body) => ({ kind: 'close', id, ...closeFromBody(body) }) });
  if (action === 'groups' && group !== undefined) {
    return pick(method, { PUT: () => ({ kind: 'join', id, group }), DELETE: () => ({ kind: 'leave', id, group }) });
  }
  return undefined;
}

export function resultJson(result: ControlResult): unknown {
  switch (result.kind) {
    case 'list':
      return { connections: result.connections, ...unreachableField(result.unreachable) };
    case 'info':
      return result.connection;
    case 'status':
      return result.report;
    case 'sent':
      return { sent: result.count, ...unreachableField(result.unreachable) };
    case 'closed':
      return { closed: true };
    case 'joined':
      return { joined: true };
    case 'left':
      return { left: true };
    case 'pong':
    case 'bye':
    case 'help':
      return {};
  }
}

/** `unreachable` is only there when workers did not answer. */
function unreachableField(unreachable: readonly string[]): { unreachable?: readonly string[] } {
  return unreachable.length > 0 ? { unreachable } : {};
}

type Builder = (body: Buffer, contentType: string | undefined) => ControlCommand;

function pick(method: string, builders: Partial<Record<string, Builder>>): Route {
  const allow = Object.keys(builders);
  const command = builders[method];
  return { allow, command, readsBody: method === 'POST' };
}

function pathSegments(pathname: string): string[] {
  const raw = pathname.split('/').filter((s, i, all) => !(s === '' && (i === 0 || i === all.length - 1)));
  try {
    return raw.map((s) => decodeURIComponent(s));
  } catch {
    throw new WsgateError('CONTROL_COMMAND', 'bad percent-encoding in the path', { status: 400 });
  }
}

function filterFrom(query: URLSearchParams): ConnectionFilter {
  const filter: ConnectionFilter = {};
  const location = query.get('location');
  const group = query.get('group');
  if (location !== null) filter.location = location;
  if (group !== null) filter.group = group;
  return filter;
}
