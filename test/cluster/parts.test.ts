// The sans-I/O parts of src/cluster: message guards, the IPC Port wrapper, the held-socket queue.
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HeldSockets } from '../../src/cluster/held-sockets.js';
import { IpcPort } from '../../src/cluster/ipc-port.js';
import { isSupervisorMessage, isWorkerMessage } from '../../src/cluster/messages.js';

describe('message guards', () => {
  it('accept the pool messages and reject anything else', () => {
    expect(isSupervisorMessage({ t: 'socket', listener: { host: '127.0.0.1', port: 80 } })).toBe(true);
    expect(isSupervisorMessage({ t: 'drain', deadlineMs: 100 })).toBe(true);
    expect(isSupervisorMessage({ t: 'drain' })).toBe(false);
    expect(isSupervisorMessage({ t: 'socket' })).toBe(false);
    expect(isSupervisorMessage({ t: 'ready', info: 1 })).toBe(false);
    expect(isSupervisorMessage({ cmd: 'NODE_HANDLE' })).toBe(false);
    expect(isSupervisorMessage(null)).toBe(false);
    expect(isWorkerMessage({ t: 'load', live: 2, received: 5 })).toBe(true);
    expect(isWorkerMessage({ t: 'load', live: '2', received: 5 })).toBe(false);
    expect(isWorkerMessage({ t: 'heartbeat', seq: 3 })).toBe(true);
    expect(isWorkerMessage({ t: 'stop', deadlineMs: 1 })).toBe(false);
  });
});

describe('IpcPort', () => {
  it('wraps payloads, keeps early messages for the listener, and refuses posts once closed', () => {
    const sent: unknown[] = [];
    const port = new IpcPort((m) => (sent.push(m), true));
    expect(port.post({ t: 'ready' })).toBe(true);
    expect(sent).toEqual([{ t: 'port', data: { t: 'ready' } }]);
    port.deliver('early');
    const got: unknown[] = [];
    port.onMessage((m) => got.push(m));
    port.deliver('late');
    expect(got).toEqual(['early', 'late']);
    const onClose = vi.fn();
    port.onClose(onClose);
    port.close();
    port.close();
    expect(onClose).toHaveBeenCalledOnce();
    expect(port.post('x')).toBe(false);
    expect(sent).toHaveLength(1);
  });
});

function fakeSocket(): Socket & { destroyed: boolean } {
  const s = { destroyed: false, on: vi.fn(), off: vi.fn(), destroy: vi.fn(() => (s.destroyed = true)) };
  return s as unknown as Socket & { destroyed: boolean };
}

describe('HeldSockets', () => {
  afterEach(() => void vi.useRealTimers());
  const listener = { host: '127.0.0.1', port: 1 };

  it('refuses (destroys) sockets past its limit', () => {
    const held = new HeldSockets(2, 5000);
    const [a, b, c] = [fakeSocket(), fakeSocket(), fakeSocket()];
    expect(held.hold(a, listener)).toBe(true);
    expect(held.hold(b, listener)).toBe(true);
    expect(held.hold(c, listener)).toBe(false);
    expect(c.destroyed).toBe(true);
    expect(held.take()?.socket).toBe(a);
    held.destroyAll();
    expect(b.destroyed).toBe(true);
    expect(held.size).toBe(0);
  });

  it('destroys a socket held past its timeout, and puts a socket it could not hand back first', () => {
    vi.useFakeTimers();
    const held = new HeldSockets(10, 5000);
    const [a, b] = [fakeSocket(), fakeSocket()];
    held.hold(a, listener);
    vi.advanceTimersByTime(3000);
    held.hold(b, listener);
    const first = held.take()!;
    held.unshift(first);
    expect(held.size).toBe(2);
    vi.advanceTimersByTime(5001);
    // unshift restarted a's clock; both waited 5 s by now
    expect([a.destroyed, b.destroyed]).toEqual([true, true]);
    expect(held.size).toBe(0);
    expect(held.dropped).toBe(2);
  });
});
