import { describe, expect, it } from 'vitest';
import { RestartBackoff } from '../../src/cluster/backoff.js';

describe('RestartBackoff', () => {
  it('doubles the delay for consecutive quick deaths, up to the cap', () => {
    const b = new RestartBackoff({ quickDeathMs: 5000, initialDelayMs: 100, factor: 2, maxDelayMs: 1000 });
    const delays: number[] = [];
    let now = 0;
    for (let i = 0; i < 6; i++) {
      b.started(now);
      now += 50; // dies 50 ms after start
      const delay = b.died(now);
      delays.push(delay);
      now += delay;
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(b.consecutiveQuickDeaths).toBe(6);
  });

  it('restarts at once after a worker that lived long, and resets the sequence', () => {
    const b = new RestartBackoff();
    b.started(0);
    expect(b.died(100)).toBe(100);
    b.started(200);
    expect(b.died(300)).toBe(200);
    b.started(1000);
    expect(b.died(1000 + 5000)).toBe(0);
    expect(b.consecutiveQuickDeaths).toBe(0);
    b.started(7000);
    expect(b.died(7001)).toBe(100);
  });

  it('treats a death with no start (the fork failed) as quick', () => {
    const b = new RestartBackoff();
    expect(b.died(10_000)).toBe(100);
    expect(b.died(10_001)).toBe(200);
  });

  it('caps at 30 s by default', () => {
    const b = new RestartBackoff();
    let delay = 0;
    for (let i = 0; i < 20; i++) {
      b.started(i);
      delay = b.died(i);
    }
    expect(delay).toBe(30_000);
  });
});
