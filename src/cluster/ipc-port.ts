// The registry's Port over one IPC channel; the same class serves both ends. Payloads travel as
// `{ t: 'port', data }` so they never collide with the pool's own messages.
import type { Port, PortMessage } from '../registry/port.js';

export type PortSend = (message: { t: 'port'; data: PortMessage }) => boolean;

export class IpcPort implements Port {
  private listener: ((message: PortMessage) => void) | undefined;
  private closeListener: (() => void) | undefined;
  /** Messages that arrived before anyone listened (the registry attaches a moment after fork). */
  private early: PortMessage[] = [];
  private open = true;

  constructor(private readonly send: PortSend) {}

  post(message: PortMessage): boolean {
    if (!this.open) return false;
    return this.send({ t: 'port', data: message });
  }

  onMessage(listener: (message: PortMessage) => void): void {
    this.listener = listener;
    const early = this.early;
    this.early = [];
    for (const message of early) listener(message);
  }

  onClose(listener: () => void): void {
    this.closeListener = listener;
    if (!this.open) listener();
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** A `port` payload arrived from the peer. */
  deliver(message: PortMessage): void {
    if (!this.open) return;
    if (this.listener) this.listener(message);
    else this.early.push(message);
  }

  /** The peer is gone: later posts return false; the close listener runs once. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.early = [];
    this.closeListener?.();
  }
}
