// Warnings about what `serve` would meet with a config that is otherwise valid: it serves nothing,
// or its control socket's directory is missing and this user cannot create it. loadConfig adds
// them, so `check`, `serve` and `apache` all print them.
import { accessSync, constants, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import type { Diagnostic, GatewayConfig } from './model.js';

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'USER';
  }
}

function isDirectory(path: string): boolean | undefined {
  try {
    return statSync(path).isDirectory();
  } catch {
    return undefined; // missing (or unreadable: then serve reports the real error)
  }
}

/** The control socket's directory is missing and its nearest existing ancestor is not writable. */
function controlDirectoryWarning(config: GatewayConfig): Diagnostic | undefined {
  const socket = config.control.socket;
  if (socket === undefined) return undefined;
  const dir = dirname(socket.path);
  const exists = isDirectory(dir);
  if (exists === true) return undefined;
  const warning = (message: string): Diagnostic => ({ severity: 'warning', code: 'CONFIG_VALUE', loc: socket.loc, message });
  if (exists === false) return warning(`the control socket's directory ${dir} is not a directory: serve will fail`);
  let ancestor = dirname(dir);
  let ancestorIsDirectory = isDirectory(ancestor);
  while (ancestorIsDirectory === undefined && dirname(ancestor) !== ancestor) {
    ancestor = dirname(ancestor);
    ancestorIsDirectory = isDirectory(ancestor);
  }
  if (ancestorIsDirectory === false) return warning(`the control socket's directory ${dir} cannot be created: ${ancestor} is not a directory`);
  try {
    accessSync(ancestor, constants.W_OK | constants.X_OK);
    return undefined; // serve creates it
  } catch {
    const user = currentUser();
    return warning(
      `the control socket's directory ${dir} does not exist and ${user} cannot create it (${ancestor} is not writable): create it before serve: mkdir -p ${dir} && chown ${user} ${dir}`,
    );
  }
}

export function startupWarnings(config: GatewayConfig): Diagnostic[] {
  const warnings: Diagnostic[] = [];
  if (config.endpoints.length === 0) {
    warnings.push({
      severity: 'warning',
      code: 'CONFIG_DIRECTIVE',
      // Line 0: the whole main file (formatDiagnostic prints "FILE: warning: …").
      loc: { file: config.file, line: 0, column: 0 },
      message:
        'no WebSocket endpoint: no <Location> with SetHandler websocket-handler and WebSocketHandler is in effect (after <IfDefine>/<IfModule>; -D NAME defines); every request would be answered 404',
    });
  }
  const directory = controlDirectoryWarning(config);
  if (directory) warnings.push(directory);
  return warnings;
}
