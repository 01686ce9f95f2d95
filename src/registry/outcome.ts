// Building and merging Outcomes: every implementation answers with the same shape, and a command
// that several members answered is the sum of their parts.
import type { Outcome } from './types.js';

export function emptyOutcome(): Outcome {
  return { count: 0, connections: [], unreachable: [] };
}

export function countOutcome(count: number): Outcome {
  return { count, connections: [], unreachable: [] };
}

export function unreachableOutcome(member: string): Outcome {
  return { count: 0, connections: [], unreachable: [member] };
}

/** Sums counts, concatenates connections and unreachable members. */
export function mergeOutcomes(parts: readonly Outcome[]): Outcome {
  if (parts.length === 1) return parts[0]!;
  const merged = emptyOutcome();
  for (const part of parts) {
    merged.count += part.count;
    for (const c of part.connections) merged.connections.push(c);
    for (const m of part.unreachable) merged.unreachable.push(m);
  }
  return merged;
}

/** Data that crossed a structured-clone channel arrives as a Uint8Array: back to a Buffer, no copy. */
export function asMessageData(data: unknown): Buffer | string {
  if (typeof data === 'string' || Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('registry message data must be a string or bytes');
}
