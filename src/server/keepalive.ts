// One timer per distinct WebSocketPingInterval instead of one per connection: 10,000 idle
// connections cost a Set entry each, not a timer each.

export interface KeepaliveTarget {
  /** Called every interval: ping, or drop the connection if the previous ping went unanswered. */
  keepaliveTick(): void;
}

export class Keepalive {
  private readonly groups = new Map<number, { members: Set<KeepaliveTarget>; timer: NodeJS.Timeout }>();

  add(target: KeepaliveTarget, intervalSeconds: number): void {
    if (!(intervalSeconds > 0)) return;
    let group = this.groups.get(intervalSeconds);
    if (!group) {
      const members = new Set<KeepaliveTarget>();
      const timer = setInterval(() => {
        for (const member of members) member.keepaliveTick();
      }, intervalSeconds * 1000);
      timer.unref();
      group = { members, timer };
      this.groups.set(intervalSeconds, group);
    }
    group.members.add(target);
  }

  remove(target: KeepaliveTarget, intervalSeconds: number): void {
    this.groups.get(intervalSeconds)?.members.delete(target);
  }

  stop(): void {
    for (const group of this.groups.values()) clearInterval(group.timer);
    this.groups.clear();
  }
}
