// Shared test plumbing: temp dirs, a silent logger, a raw line-protocol conversation.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';

export const silentLog: Logger = pino({ level: 'silent' });

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-control-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes `input` in one go and collects the answer until `lines` lines have arrived (a number,
 *  or a test on the lines so far), the server closes, or 5 s pass. */
export function converse(path: string, input: Buffer | string, lines: number | ((got: string[]) => boolean)): Promise<string[]> {
  const done = typeof lines === 'number' ? (got: string[]) => got.length >= lines : lines;
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let text = '';
    const timer = setTimeout(() => finish(), 5000);
    function finish(): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(text.split('\n').filter((l, i, all) => i < all.length - 1 || l !== ''));
    }
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (done(text.split('\n').slice(0, -1))) finish();
    });
    socket.on('close', finish);
    socket.on('error', reject);
    socket.write(input);
  });
}
