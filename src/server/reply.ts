// Refusing a handshake: write a complete HTTP answer, then let TCP end without an RST eating it.
import type { Socket } from 'node:net';
import { errorResponse } from '../protocol/index.js';

/** How long a refused client gets to read the answer and close before we drop TCP. */
const LINGER_MS = 2000;

export function refuse(socket: Socket, status: number, headers: ReadonlyArray<readonly [string, string]>, body: string): void {
  if (socket.destroyed) return;
  // Keep reading (and discarding) so the peer's FIN is seen and unread input does not turn our close into an RST.
  socket.on('data', () => {});
  socket.resume();
  socket.end(errorResponse(status, headers, body.endsWith('\n') ? body : `${body}\n`));
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
