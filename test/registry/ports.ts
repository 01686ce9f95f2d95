// Ports over worker_threads' MessageChannel: the same structured clone as Node's advanced IPC
// serialization, in one process. The real process IPC is tested in test/cluster.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Port } from '../../src/registry/port.js';

class ChannelPort implements Port {
  private closed = false;
  private readonly closeListeners: Array<() => void> = [];

  constructor(private readonly port: MessagePort) {
    port.on('close', () => this.markClosed());
  }

  post(message: unknown): boolean {
    if (this.closed) return false;
    this.port.postMessage(message);
    return true;
  }

  onMessage(listener: (message: unknown) => void): void {
    this.port.on('message', listener);
  }

  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  close(): void {
    this.port.close();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.closeListeners) l();
  }
}

export function portPair(): [ChannelPort, ChannelPort] {
  const { port1, port2 } = new MessageChannel();
  return [new ChannelPort(port1), new ChannelPort(port2)];
}

/** A port whose peer never reads: messages vanish (a hung worker). */
export function deafPort(): Port {
  return { post: () => true, onMessage: () => undefined, onClose: () => undefined };
}
