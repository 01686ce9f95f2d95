// Requests awaiting an answer over a Port, each with a deadline: the answer, or the fallback
// value when the peer is too slow or gone. Never rejects, so a dead peer cannot leave a caller hanging.
export class PendingReplies<T> {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (value: T) => void; timer: NodeJS.Timeout; fallback: T }>();

  /** A fresh request id and the promise of its answer. */
  open(timeoutMs: number, fallback: T): { rid: number; reply: Promise<T> } {
    const rid = this.next++;
    const reply = new Promise<T>((resolve) => {
      const timer = setTimeout(() => this.settle(rid, fallback), timeoutMs);
      timer.unref();
      this.waiting.set(rid, { resolve, timer, fallback });
    });
    return { rid, reply };
  }

  /** False when the request already timed out (a late answer is dropped). */
  settle(rid: number, value: T): boolean {
    const entry = this.waiting.get(rid);
    if (!entry) return false;
    this.waiting.delete(rid);
    clearTimeout(entry.timer);
    entry.resolve(value);
    return true;
  }

  /** The peer is gone: every request gets its fallback now. */
  abandonAll(): void {
    for (const [rid, entry] of [...this.waiting]) this.settle(rid, entry.fallback);
  }

  get size(): number {
    return this.waiting.size;
  }
}
