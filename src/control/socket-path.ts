// Claiming the control socket's path: its directory is created when missing, a stale socket
// (nothing listening) is replaced, anything else is refused; the file is created with its final
// mode, never wider for a moment.
import { lstat, unlink, chmod, mkdir, stat } from 'node:fs/promises';
import { connect, type Server } from 'node:net';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { WsgateError, type SourceLocation } from '../errors.js';

const probeTimeoutMs = 1000;

/** The directory wsgate creates for its socket: whoever may connect must be able to traverse it,
 *  so it is 0750 (the socket's group) or 0755 when MODE lets others connect too. */
export function socketDirectoryMode(socketMode: number): number {
  return (socketMode & 0o007) !== 0 ? 0o755 : 0o750;
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'USER';
  }
}

/** What to run when wsgate cannot make the directory itself (typically /run/wsgate as a non-root user). */
function createHint(dir: string): string {
  return `create it for the user running wsgate: mkdir -p ${dir} && chown ${currentUser()} ${dir} (under systemd: RuntimeDirectory=)`;
}

/** Creates the socket's directory (and missing parents) when it does not exist, owned by the user
 *  running wsgate with socketDirectoryMode(); an existing directory is left as it is. */
export async function ensureSocketDirectory(path: string, socketMode: number, loc: SourceLocation | undefined, log: Logger): Promise<void> {
  const dir = dirname(path);
  let existing;
  try {
    existing = await stat(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ENOTDIR: a parent is a file; mkdir below reports that with the hint.
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw socketError(`cannot inspect the control socket's directory ${dir}: ${(err as Error).message}`, loc, err);
  }
  if (existing?.isDirectory()) return;
  if (existing) throw socketError(`the control socket's directory ${dir} exists and is not a directory`, loc);
  const mode = socketDirectoryMode(socketMode);
  try {
    await mkdir(dir, { recursive: true, mode });
    await chmod(dir, mode); // mkdir's mode was narrowed by the umask
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw socketError(`cannot create the control socket's directory ${dir} (${code}): ${createHint(dir)}`, loc, err);
  }
  log.info({ directory: dir, mode: `0${mode.toString(8)}` }, 'created the control socket directory');
}

export async function claimSocketPath(path: string, loc: SourceLocation | undefined, log: Logger): Promise<void> {
  let existing;
  try {
    existing = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw socketError(`cannot inspect control socket path ${path}: ${(err as Error).message}`, loc, err);
  }
  if (!existing.isSocket()) {
    throw socketError(`control socket path ${path} exists and is not a socket; refusing to replace it`, loc);
  }
  const state = await probe(path);
  if (state === 'live') throw socketError(`another process is listening on control socket ${path}`, loc);
  if (state !== 'stale') throw socketError(`cannot check control socket ${path}: ${state}`, loc);
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw socketError(`cannot remove stale control socket ${path}: ${err.message}`, loc, err);
  });
  log.info({ path }, 'removed stale control socket');
}

/** 'live' when something accepts connections, 'stale' when nothing listens, else the error text. */
function probe(path: string): Promise<'live' | 'stale' | string> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const timer = setTimeout(() => finish('live'), probeTimeoutMs); // accepted but slow: treat as in use
    function finish(result: string): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    }
    socket.once('connect', () => finish('live'));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ECONNREFUSED' ? 'stale' : err.message));
  });
}

/** Listen on a UNIX socket created with `mode`. The socket file is created by bind() with
 *  0777 & ~umask, so the umask is narrowed for the synchronous bind inside listen() and restored
 *  right after (no other JavaScript runs in between); chmod afterwards covers platforms or
 *  threads where the umask cannot be changed. */
export async function listenWithMode(server: Server, path: string, mode: number, loc: SourceLocation | undefined): Promise<void> {
  const previous = trySetUmask(~mode & 0o777);
  const listening = new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      // EACCES: the directory exists but this user may not create files in it.
      const hint = err.code === 'EACCES' ? `; ${dirname(path)} must be writable by ${currentUser()}: chown ${currentUser()} ${dirname(path)}` : '';
      reject(socketError(`cannot listen on control socket ${path}: ${err.message}${hint}`, loc, err));
    };
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolve();
    });
  });
  try {
    server.listen(path);
  } finally {
    if (previous !== undefined) process.umask(previous);
  }
  await listening;
  await chmod(path, mode);
}

function trySetUmask(mask: number): number | undefined {
  try {
    return process.umask(mask);
  } catch {
    return undefined; // worker threads cannot change the umask
  }
}

/** Identity of the file we created, so close() removes only our own socket. */
export async function fileIdentity(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}

function socketError(message: string, loc: SourceLocation | undefined, cause?: unknown): WsgateError {
  return new WsgateError('CONTROL_SOCKET', message, { loc, cause });
}
