import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/server/fifo.js';

describe('Fifo', () => {
  it('gives items back in the order they came, with peek at any offset', () => {
    const q = new Fifo<number>();
    for (let i = 0; i < 5; i++) q.push(i);
    expect(q.peek()).toBe(0);
    expect(q.peek(3)).toBe(3);
    expect(q.peek(5)).toBeUndefined();
    expect([q.shift(), q.shift()]).toEqual([0, 1]);
    q.push(5);
    expect(q.length).toBe(4);
    expect(q.clear()).toEqual([2, 3, 4, 5]);
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
  });

  it('keeps its order across compactions of a long-lived queue', () => {
    const q = new Fifo<number>();
    const out: number[] = [];
    let next = 0;
    // Push 3, take 2, many times: the read index passes the compaction threshold repeatedly.
    for (let round = 0; round < 5000; round++) {
      for (let i = 0; i < 3; i++) q.push(next++);
      out.push(q.shift()!, q.shift()!);
    }
    while (q.length > 0) out.push(q.shift()!);
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
  });
});
