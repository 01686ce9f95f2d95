// How a path written in the config becomes a file on disk.
import { isAbsolute, join, resolve } from 'node:path';

/** Relative paths are relative to ServerRoot; absolute ones are read under `sysroot` when given. */
export function realPath(path: string, serverRoot: string, sysroot: string | undefined): string {
  if (isAbsolute(path)) return sysroot !== undefined ? join(sysroot, path) : path;
  return resolve(serverRoot, path);
}
