// When to restart a worker that died: sans-I/O, one instance per slot. A worker that dies soon
// after it started is a "quick death"; consecutive quick deaths wait exponentially longer before
// the next start, so a crash loop (a plugin that segfaults in its init) costs a fork now and then,
// not a core. A worker that lived long resets the sequence: its replacement starts at once.

export interface BackoffOptions {
  /** A worker that dies within this many ms of its start counts as a quick death. */
  quickDeathMs: number;
  /** Delay after the first quick death. */
  initialDelayMs: number;
  /** Each further consecutive quick death multiplies the delay by this. */
  factor: number;
  /** The delay never grows past this. */
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  quickDeathMs: 5_000,
  initialDelayMs: 100,
  factor: 2,
  maxDelayMs: 30_000,
};

export class RestartBackoff {
  private readonly options: BackoffOptions;
  private quickDeaths = 0;
  private startedAt: number | undefined;

  constructor(options: Partial<BackoffOptions> = {}) {
    this.options = { ...DEFAULT_BACKOFF, ...options };
  }

  /** The slot's worker was started (forked) at `now` (ms). */
  started(now: number): void {
    this.startedAt = now;
  }

  /** The slot's worker died at `now`: the ms to wait before starting its replacement. */
  died(now: number): number {
    // Never started (the fork itself failed) counts as quick: retrying that must back off too.
    const lived = this.startedAt === undefined ? 0 : now - this.startedAt;
    this.startedAt = undefined;
    if (lived >= this.options.quickDeathMs) {
      this.quickDeaths = 0;
      return 0;
    }
    this.quickDeaths += 1;
    const delay = this.options.initialDelayMs * this.options.factor ** (this.quickDeaths - 1);
    return Math.min(this.options.maxDelayMs, delay);
  }

  /** Consecutive quick deaths so far (0 after a worker that lived long). */
  get consecutiveQuickDeaths(): number {
    return this.quickDeaths;
  }
}
