// Claiming the control socket's path: a stale socket (nothing listening) is replaced, anything
// else is refused; the file is created with its final mode, never wider for a moment.
import { lstat, unlink, chmod, stat } from 'node:fs/promises';
import { connect, type Server } from 'node:net';
import type { Logger } from 'pino';
import { WsgateError, type SourceLocation } from '../errors.js';

const probeTimeoutMs = 1000;

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
    const onError = (err: Error): void => reject(socketError(`cannot listen on control socket ${path}: ${err.message}`, loc, err));
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
