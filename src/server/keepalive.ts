// Keepalive pings with one timer per distinct WebSocketPingInterval instead of one per connection:
// 10,000 idle connections cost a Set entry each, not a timer each. The interval is cut into SLOTS
// phases; a connection joins the phase of the moment it opened and is visited once per interval at
// that phase, so pings do not all go out on one shared tick, and a connection opened a moment ago
// is not pinged before it has been idle for a whole interval (the connection decides, see
// WsConnection.keepaliveTick).

export interface KeepaliveTarget {
  /** Called once per interval at the target's own phase: ping if idle, drop if a ping went unanswered. */
  keepaliveTick(nowMs: number, intervalMs: number): void;
}

/** Phases per interval: a connection's first visit comes at most interval/SLOTS after a whole interval. */
const SLOTS = 16;

class Phases {
  private readonly slots: Array<Set<KeepaliveTarget>> = Array.from({ length: SLOTS }, () => new Set());
  /** The slot the next tick visits. */
  private next = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly intervalMs: number) {
    this.timer = setInterval(() => this.tick(), intervalMs / SLOTS);
    this.timer.unref();
  }

  add(target: KeepaliveTarget): void {
    // The slot visited next: the connection is seen within interval/SLOTS and every interval after.
    this.slots[this.next]!.add(target);
  }

  remove(target: KeepaliveTarget): void {
    for (const slot of this.slots) if (slot.delete(target)) return;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const slot = this.slots[this.next]!;
    this.next = (this.next + 1) % SLOTS;
    const now = Date.now();
    for (const target of slot) target.keepaliveTick(now, this.intervalMs);
  }
}

export class Keepalive {
  private readonly groups = new Map<number, Phases>();

  add(target: KeepaliveTarget, intervalSeconds: number): void {
    if (!(intervalSeconds > 0)) return;
    let group = this.groups.get(intervalSeconds);
    if (!group) this.groups.set(intervalSeconds, (group = new Phases(intervalSeconds * 1000)));
    group.add(target);
  }

  remove(target: KeepaliveTarget, intervalSeconds: number): void {
    this.groups.get(intervalSeconds)?.remove(target);
  }

  stop(): void {
    for (const group of this.groups.values()) group.stop();
    this.groups.clear();
  }
}
