// The metrics channel between the supervisor and a worker, on the worker's Port next to the
// registry's envelopes ({ ch: 'registry' }): the supervisor asks, the worker reports.
import type { GatewayStatsSnapshot } from '../server/stats.js';

export const METRICS_CHANNEL = 'metrics';

export type MetricsRequest = {
  t: 'report';
  rid: number;
  /** Also the worker's prom-client registry as JSON (a scrape); false for `wsgate status`. */
  metrics: boolean;
};

export type MetricsReply = {
  t: 'reported';
  rid: number;
  stats: GatewayStatsSnapshot | undefined;
  /** prom-client's getMetricsAsJSON(), when asked for. */
  metrics?: unknown[];
  /** Seconds since the worker process started. */
  uptimeSeconds: number;
};

export function metricsEnvelope(m: MetricsRequest | MetricsReply): { ch: typeof METRICS_CHANNEL; m: MetricsRequest | MetricsReply } {
  return { ch: METRICS_CHANNEL, m };
}

export function openMetricsEnvelope<M extends MetricsRequest | MetricsReply>(message: unknown, t: M['t']): M | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const e = message as { ch?: unknown; m?: { t?: unknown } };
  return e.ch === METRICS_CHANNEL && e.m?.t === t ? (e.m as M) : undefined;
}
