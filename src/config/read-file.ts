// Reading a config file or a token file without trusting it: only a regular file (a FIFO would
// block, /dev/zero never ends, as Apache refuses them too), and never more than a stated size.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

/** Largest config file (each Include'd file too). The 20,000-line benchmark config is ~1 MB. */
export const maxConfigFileBytes = 8 * 1024 * 1024;
/** Largest WebSocketControlTokenFile. */
export const maxTokenFileBytes = 64 * 1024;

export type ReadResult = { text: string; error?: undefined } | { text?: undefined; error: string };

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The file's text (UTF-8), or why it cannot be used: errno code, not a regular file, too large. */
export function readRegularFile(path: string, maxBytes: number): ReadResult {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO without a writer must not wait; fstat then refuses it.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return { error: (err as NodeJS.ErrnoException).code ?? String(err) };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { error: `${path} is ${kindOf(st)}, not a regular file` };
    if (st.size > maxBytes) return { error: `${path} is ${st.size} bytes, more than the ${maxBytes} allowed` };
    // Read at most maxBytes + 1 whatever the size said (the file may grow meanwhile).
    const buffer = Buffer.allocUnsafe(Math.min(st.size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length === buffer.length) {
        if (length > maxBytes) return { error: `${path} is more than the ${maxBytes} bytes allowed` };
        break;
      }
    }
    return { text: buffer.toString('utf8', 0, length) };
  } catch (err) {
    return { error: (err as NodeJS.ErrnoException).code ?? String(err) };
  } finally {
    closeSync(fd);
  }
}
