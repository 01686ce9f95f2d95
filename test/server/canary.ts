// A canary: one WebSocket client that keeps echoing while a test attacks the gateway, so the test
// can assert that nobody else was hurt: every echo came back, in order, and how long each took.
import { connectClient, type Inbox } from '../control/ws-clients.js';

export interface CanaryReport {
  sent: number;
  /** Echoes that came back with the text that was sent, in order. */
  echoed: number;
  latenciesMs: number[];
  maxMs: number;
}

export class Canary {
  private running = true;
  private readonly done: Promise<CanaryReport>;

  private constructor(private readonly inbox: Inbox, intervalMs: number) {
    this.done = this.loop(intervalMs);
  }

  /** Starts echoing on `url` (an echo Location) every intervalMs. */
  static async start(url: string, intervalMs = 25): Promise<Canary> {
    return new Canary(await connectClient(url), intervalMs);
  }

  private async loop(intervalMs: number): Promise<CanaryReport> {
    const latenciesMs: number[] = [];
    let sent = 0;
    let echoed = 0;
    while (this.running) {
      const text = `canary ${sent}`;
      const start = performance.now();
      this.inbox.ws.send(text);
      sent += 1;
      const got = await this.inbox.nextText(10_000).catch(() => undefined);
      if (got === text) echoed += 1;
      latenciesMs.push(performance.now() - start);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
    this.inbox.ws.close();
    return { sent, echoed, latenciesMs, maxMs: Math.max(0, ...latenciesMs) };
  }

  /** Stops after the echo in flight and reports. */
  stop(): Promise<CanaryReport> {
    this.running = false;
    return this.done;
  }
}
