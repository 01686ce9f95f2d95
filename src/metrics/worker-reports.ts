// Both ends of the metrics channel. A worker answers each request with its gateway's counters
// (and, for a scrape, its prom-client registry as JSON); the supervisor asks every worker at
// once and waits at most a deadline: a worker that does not answer is named, never waited for.
import type { Port } from '../registry/port.js';
import { PendingReplies } from '../registry/pending.js';
import type { GatewayStatsSnapshot } from '../server/stats.js';
import { ProcessMetrics } from './prom.js';
import { metricsEnvelope, openMetricsEnvelope, type MetricsReply, type MetricsRequest } from './wire.js';

/** Worker side. `stats`: undefined until the gateway is built. */
export function answerMetricsRequests(port: Port, stats: () => GatewayStatsSnapshot | undefined): void {
  const startedAt = Date.now();
  let metrics: Promise<ProcessMetrics> | undefined;
  // Started at once, so CPU and event-loop lag cover the worker's life, not only scrapes.
  const processMetrics = (): Promise<ProcessMetrics> => (metrics ??= ProcessMetrics.create({ gateway: true, service: false }));
  void processMetrics();
  port.onMessage((message) => {
    const request = openMetricsEnvelope<MetricsRequest>(message, 'report');
    if (!request) return;
    void (async () => {
      const snapshot = stats();
      const reply: MetricsReply = { t: 'reported', rid: request.rid, stats: snapshot, uptimeSeconds: (Date.now() - startedAt) / 1000 };
      if (request.metrics) reply.metrics = await (await processMetrics()).json(snapshot);
      port.post(metricsEnvelope(reply));
    })();
  });
}

/** Supervisor side: one entry per worker process, by its pool id. */
export class WorkerReports {
  private readonly ports = new Map<number, Port>();
  private readonly replies = new PendingReplies<MetricsReply | undefined>();

  attach(id: number, port: Port): void {
    this.ports.set(id, port);
    port.onMessage((message) => {
      const reply = openMetricsEnvelope<MetricsReply>(message, 'reported');
      if (reply) this.replies.settle(reply.rid, reply);
    });
    port.onClose(() => this.ports.delete(id));
  }

  /** Each worker's reply, or undefined for one that did not answer within deadlineMs. */
  async gather(ids: readonly number[], withMetrics: boolean, deadlineMs: number): Promise<Map<number, MetricsReply | undefined>> {
    const asked = ids.map(async (id): Promise<[number, MetricsReply | undefined]> => {
      const port = this.ports.get(id);
      if (!port) return [id, undefined];
      const { rid, reply } = this.replies.open(deadlineMs, undefined);
      const request: MetricsRequest = { t: 'report', rid, metrics: withMetrics };
      if (!port.post(metricsEnvelope(request))) this.replies.settle(rid, undefined);
      return [id, await reply];
    });
    return new Map(await Promise.all(asked));
  }
}
