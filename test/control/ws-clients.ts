// WebSocket test clients that keep every message they receive, in order.
import WebSocket from 'ws';

export interface Received {
  data: Buffer;
  isBinary: boolean;
}

export class Inbox {
  private readonly items: Received[] = [];
  private readonly waiters: Array<(r: Received) => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const r = { data: data as Buffer, isBinary };
      const waiter = this.waiters.shift();
      if (waiter) waiter(r);
      else this.items.push(r);
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  next(timeoutMs = 5000): Promise<Received> {
    const ready = this.items.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push((r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }

  async nextText(timeoutMs?: number): Promise<string> {
    const r = await this.next(timeoutMs);
    if (r.isBinary) throw new Error('expected a text message, got binary');
    return r.data.toString();
  }
}

export function connectClient(url: string): Promise<Inbox> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const inbox = new Inbox(ws);
    ws.once('open', () => resolve(inbox));
    ws.once('error', reject);
  });
}
