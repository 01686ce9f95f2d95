// A message port between two processes of one machine (a worker and its supervisor). The IPC
// registry speaks over it; src/cluster provides the implementation over Node's IPC channel
// (advanced serialization, so Buffers cross as bytes).

/** Any structured-cloneable value: plain objects, arrays, strings, numbers, Buffers/Uint8Arrays. */
export type PortMessage = unknown;

export interface Port {
  /** Fire and forget; messages arrive in the order they were posted. False when the peer is gone. */
  post(message: PortMessage): boolean;
  /** Every listener gets every message (each channel ignores the others' envelopes). */
  onMessage(listener: (message: PortMessage) => void): void;
  /** Called once when the peer goes away (exit, crash, disconnect); every listener is called. */
  onClose(listener: () => void): void;
}
