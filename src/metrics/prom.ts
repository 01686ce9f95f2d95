// The Prometheus side, on prom-client. Imported only by processes that serve (a scrape or the
// worker's first report loads it), never by `ctl`, `check` or `status`. Each process keeps one
// registry: the gateway families (read from a GatewayStatsSnapshot taken once per scrape), the
// service families (supervisor, or the one process of WebSocketWorkers 0) and prom-client's
// process metrics (CPU, RSS, heap, event-loop lag). The supervisor merges every process's JSON
// with AggregatorRegistry.aggregate: counters and gauges are summed, so a family counts the
// whole gateway (the event-loop lag is averaged, as prom-client declares it).
import type * as PromClient from 'prom-client';
import type { GatewayStatsSnapshot } from '../server/stats.js';
import { nativeQueueDepth } from '../plugins/native/queue-depth.js';
import type { ServiceCounters } from './service-counters.js';

type Prom = typeof PromClient;
type Registry = PromClient.Registry;

let loading: Promise<Prom> | undefined;

export function loadPromClient(): Promise<Prom> {
  return (loading ??= import('prom-client').then((m) => m as unknown as Prom));
}

/** What the service families read at each scrape (supervisor, or the single process). */
export interface ServiceGauges {
  counters: ServiceCounters;
  /** Worker processes by state (none with WebSocketWorkers 0). */
  workersByState: Record<string, number>;
  /** Workers that did not answer this scrape in time (their counters are missing from it). */
  unanswered: number;
  listeners: number;
  /** undefined: no WebSocketClusterRedis. */
  busUp: boolean | undefined;
}

export class ProcessMetrics {
  private stats: GatewayStatsSnapshot | undefined;
  private service: ServiceGauges | undefined;

  private constructor(
    private readonly prom: Prom,
    readonly registry: Registry,
  ) {}

  /** `gateway`: this process holds connections; `service`: it runs the control channel;
   *  `bus`: it has a cluster bus (WebSocketClusterRedis). */
  static async create(parts: { gateway: boolean; service: boolean; bus?: boolean }): Promise<ProcessMetrics> {
    const prom = await loadPromClient();
    const registry = new prom.Registry();
    const metrics = new ProcessMetrics(prom, registry);
    prom.collectDefaultMetrics({ register: registry });
    if (parts.gateway) metrics.defineGateway();
    if (parts.service) metrics.defineService(parts.bus === true);
    return metrics;
  }

  async json(stats: GatewayStatsSnapshot | undefined, service?: ServiceGauges): Promise<unknown[]> {
    this.stats = stats;
    this.service = service;
    return this.registry.getMetricsAsJSON();
  }

  /** Several processes' json() as one text exposition. */
  async aggregate(parts: unknown[][]): Promise<{ contentType: string; body: string }> {
    const merged = this.prom.AggregatorRegistry.aggregate(parts as Parameters<typeof this.prom.AggregatorRegistry.aggregate>[0]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }

  private counter(name: string, help: string, labelNames: string[], values: () => Array<[Record<string, string>, number]>): void {
    new this.prom.Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, value] of values()) this.inc(labels, value);
      },
    });
  }

  private gauge(name: string, help: string, labelNames: string[], values: () => Array<[Record<string, string>, number]>): void {
    new this.prom.Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, value] of values()) this.set(labels, value);
      },
    });
  }

  private defineGateway(): void {
    const locations = (): GatewayStatsSnapshot['locations'] => this.stats?.locations ?? [];
    const perLocation = (key: 'messagesIn' | 'messagesOut' | 'bytesIn' | 'bytesOut' | 'sendQueueOverflows') => (): Array<[Record<string, string>, number]> =>
      locations().map((l) => [{ location: l.location }, l[key]]);
    const byKey = (counts: Record<string, number> | undefined, label: string): Array<[Record<string, string>, number]> =>
      Object.entries(counts ?? {}).map(([k, v]) => [{ [label]: k }, v]);
    this.gauge('wsgate_connections', 'Open WebSocket connections by Location and protocol version.', ['location', 'version'], () =>
      locations().flatMap((l) => Object.entries(l.open).map(([version, n]): [Record<string, string>, number] => [{ location: l.location, version }, n])),
    );
    this.counter('wsgate_handshakes_total', 'Opening handshakes by answer: 101, or the refusal status (plain HTTP requests and unreadable requests included).', ['status'], () =>
      byKey(this.stats?.handshakes, 'status'),
    );
    this.counter('wsgate_messages_received_total', 'Whole messages received, by Location.', ['location'], perLocation('messagesIn'));
    this.counter('wsgate_messages_sent_total', 'Whole messages sent, by Location.', ['location'], perLocation('messagesOut'));
    this.counter('wsgate_received_bytes_total', 'Bytes received after the handshake (wire bytes), by Location.', ['location'], perLocation('bytesIn'));
    this.counter('wsgate_sent_bytes_total', 'Bytes sent after the handshake (wire bytes), by Location.', ['location'], perLocation('bytesOut'));
    this.counter('wsgate_close_frames_sent_total', 'Close frames sent, by code (1005: without a code).', ['code'], () => byKey(this.stats?.closeSent, 'code'));
    this.counter('wsgate_close_frames_received_total', 'Close frames received, by code (1005: without a code).', ['code'], () => byKey(this.stats?.closeReceived, 'code'));
    this.counter('wsgate_send_queue_overflows_total', 'Connections closed with 1008 because their send queue (or a C plugin\'s) was over WebSocketSendQueueLimit.', ['location'], perLocation('sendQueueOverflows'));
    this.counter('wsgate_handler_errors_total', 'Throws and rejected promises of handler callbacks (a native plugin\'s failures as its adapter reports them), by Location and callback.', ['location', 'callback'], () =>
      locations().flatMap((l) => Object.entries(l.handlerErrors).map(([callback, n]): [Record<string, string>, number] => [{ location: l.location, callback }, n ?? 0])),
    );
    // Read from the helper at each scrape (absent in processes that host no native plugin).
    this.gauge('wsgate_native_queue_messages', 'Messages native plugins sent that wait in the helper\'s queues (not yet taken by the gateway).', [], () => {
      const depth = nativeQueueDepth();
      return depth ? [[{}, depth.messages]] : [];
    });
    this.gauge('wsgate_native_queue_bytes', 'Payload bytes of those messages (each connection\'s queue is capped by WebSocketSendQueueLimit).', [], () => {
      const depth = nativeQueueDepth();
      return depth ? [[{}, depth.bytes]] : [];
    });
  }

  private defineService(bus: boolean): void {
    const service = (): ServiceGauges | undefined => this.service;
    this.counter('wsgate_control_commands_total', 'Control channel commands (socket and HTTP API) by verb and result (ok, or the error code).', ['verb', 'result'], () =>
      [...(service()?.counters.commands ?? new Map<string, number>())].map(([key, n]) => {
        const [verb = '', result = ''] = key.split(' ');
        return [{ verb, result }, n];
      }),
    );
    this.counter('wsgate_worker_restarts_total', 'Worker processes replaced after they died or hung.', [], () => [[{}, service()?.counters.workerRestarts ?? 0]]);
    this.counter('wsgate_reloads_total', 'Graceful reloads (SIGHUP) by result.', ['result'], () =>
      Object.entries(service()?.counters.reloads ?? {}).map(([result, n]) => [{ result }, n]),
    );
    this.gauge('wsgate_workers', 'Worker processes by state.', ['state'], () => Object.entries(service()?.workersByState ?? {}).map(([state, n]) => [{ state }, n]));
    this.gauge('wsgate_workers_unanswered', 'Workers that did not answer this scrape within its deadline (their counters are missing from it).', [], () => [[{}, service()?.unanswered ?? 0]]);
    this.gauge('wsgate_listeners', 'Bound WebSocket listeners.', [], () => [[{}, service()?.listeners ?? 0]]);
    if (!bus) return;
    this.gauge('wsgate_cluster_bus_up', 'WebSocketClusterRedis: 1 while the Redis bus is connected, 0 while it is down (absent without a cluster).', [], () => [
      [{}, service()?.busUp ? 1 : 0],
    ]);
  }
}
