// Where `wsgate ctl -f FILE` connects: the config's control socket when it has one (no token
// needed, file permissions guard it), else its HTTP control API with the config's token.
import type { ControlConfig } from '../config/model.js';

export interface ControlTarget {
  socket?: string | undefined;
  url?: string | undefined;
  token?: string | undefined;
}

export function targetFromConfig(control: ControlConfig): ControlTarget | undefined {
  if (control.socket) return { socket: control.socket.path, token: control.token };
  if (!control.listen) return undefined;
  return { url: `http://${connectHost(control.listen.host)}:${control.listen.port}`, token: control.token };
}

/** A wildcard listen address is reached through loopback. */
function connectHost(host: string): string {
  if (host === '' || host === '0.0.0.0' || host === '*') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
