// A first-in first-out list on an array and a read index: shift() is O(1) (Array#shift moves every
// element), and the array is cut down once most of it has been read, so a long-lived queue does
// not keep what it already gave out.

/** Read items before the array is sliced: small queues never copy. */
const COMPACT_AFTER = 1024;

export class Fifo<T> {
  private items: Array<T | undefined> = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The item `offset` places from the front (0: the next to be shifted). */
  peek(offset = 0): T | undefined {
    return this.items[this.head + offset];
  }

  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined; // not kept alive by the queue
    this.compact();
    return item;
  }

  /** Removes and returns every item. */
  clear(): T[] {
    const rest = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return rest;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > COMPACT_AFTER && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
