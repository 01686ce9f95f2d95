// The registry's Port over one IPC channel; the same class serves both ends. Payloads travel as
// `{ t: 'port', data }` so they never collide with the pool's own messages. Several listeners may
// share it (the registry and the metrics channel), each picking its own envelopes.
import type { Port, PortMessage } from '../registry/port.js';

export type PortSend = (message: { t: 'port'; data: PortMessage }) => boolean;

export class IpcPort implements Port {
  private readonly listeners: Array<(message: PortMessage) => void> = [];
  private readonly closeListeners: Array<() => void> = [];
  /** Messages that arrived before anyone listened (the registry attaches a moment after fork). */
  private early: PortMessage[] = [];
  private open = true;

  constructor(private readonly send: PortSend) {}

  post(message: PortMessage): boolean {
    if (!this.open) return false;
    return this.send({ t: 'port', data: message });
  }

  /** The first listener also gets what arrived before it. */
  onMessage(listener: (message: PortMessage) => void): void {
    this.listeners.push(listener);
    const early = this.early;
    this.early = [];
    for (const message of early) listener(message);
  }

  /** Every listener runs once when the peer goes (the registry and the metrics channel both need to). */
  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
    if (!this.open) listener();
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** A `port` payload arrived from the peer. */
  deliver(message: PortMessage): void {
    if (!this.open) return;
    if (this.listeners.length === 0) this.early.push(message);
    else for (const listener of this.listeners) listener(message);
  }

  /** The peer is gone: later posts return false; each close listener runs once. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.early = [];
    for (const listener of this.closeListeners) listener();
  }
}
