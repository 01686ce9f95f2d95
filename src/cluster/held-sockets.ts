// Sockets accepted while no worker can take them (startup, every worker dead, mid-restart).
// Bounded in number and in time: past either a socket is destroyed, never kept forever.
import type { Socket } from 'node:net';
import type { ListenerRef } from './messages.js';

export interface HeldSocket {
  socket: Socket;
  listener: ListenerRef;
}

export class HeldSockets {
  private readonly queue: (HeldSocket & { timer: NodeJS.Timeout })[] = [];
  /** Sockets destroyed because the queue was full or they waited too long. */
  dropped = 0;

  constructor(
    private readonly limit: number,
    private readonly timeoutMs: number,
  ) {}

  get size(): number {
    return this.queue.length;
  }

  /** Holds the socket; false (and the socket is destroyed) when the queue is full. */
  hold(socket: Socket, listener: ListenerRef): boolean {
    if (this.queue.length >= this.limit) {
      this.drop(socket);
      return false;
    }
    // A held socket is paused, but an RST still arrives as an error: never let it throw.
    socket.on('error', ignore);
    const entry = {
      socket,
      listener,
      timer: setTimeout(() => {
        const i = this.queue.indexOf(entry);
        if (i >= 0) this.queue.splice(i, 1);
        this.drop(socket);
      }, this.timeoutMs),
    };
    this.queue.push(entry);
    return true;
  }

  /** The oldest held socket, no longer held. */
  take(): HeldSocket | undefined {
    const entry = this.queue.shift();
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    entry.socket.off('error', ignore);
    return { socket: entry.socket, listener: entry.listener };
  }

  /** Puts a socket that could not be handed over back at the front. */
  unshift(held: HeldSocket): void {
    if (!this.hold(held.socket, held.listener)) return;
    this.queue.unshift(this.queue.pop()!);
  }

  destroyAll(): void {
    for (let held = this.take(); held; held = this.take()) held.socket.destroy();
  }

  private drop(socket: Socket): void {
    this.dropped += 1;
    socket.destroy();
  }
}

function ignore(): void {}
