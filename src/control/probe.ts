// What the control channel asks of the service around it for /metrics, /readyz and STATUS
// (src/metrics implements it). The control code itself never loads prom-client.

export interface HealthCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** GET /readyz's body (503 unless ok). */
export interface HealthReport {
  ok: boolean;
  checks: HealthCheck[];
}

export interface LocationStatus {
  location: string;
  connections: number;
  /** Open connections by protocol version ('13', 'hixie-76', …). */
  byVersion: Record<string, number>;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Averages since the gateway started. */
  messagesInPerSecond: number;
  messagesOutPerSecond: number;
}

export interface WorkerStatus {
  /** Its member name (w3, or NODE/w3 in a cluster). */
  name: string;
  slot: number;
  id: number;
  pid: number | null;
  generation: number;
  state: string;
  uptimeSeconds: number;
  /** Times this slot's worker was replaced after dying or hanging. */
  restarts: number;
  /** null: it did not answer in time. */
  connections: number | null;
}

/** STATUS / GET /status / `wsgate status --json`. */
export interface StatusReport {
  version: string;
  pid: number;
  startedAt: string;
  uptimeSeconds: number;
  /** 'workers': a supervisor and worker processes; 'single': WebSocketWorkers 0. */
  mode: 'workers' | 'single';
  generation: number;
  ready: boolean;
  listeners: string[];
  connections: number;
  /** Handshakes by answer ('101', '403', …). */
  handshakes: Record<string, number>;
  locations: LocationStatus[];
  workers: WorkerStatus[];
  /** Workers that did not answer (their connections are missing from the counts). */
  unanswered: string[];
  control: { socket: string | null; http: string | null; metrics: string | null };
  bus: { cluster: string; node: string; connected: boolean } | null;
}

export interface ServiceProbe {
  /** The Prometheus text exposition, every process merged. */
  metrics(): Promise<{ contentType: string; body: string }>;
  readiness(): Promise<HealthReport>;
  status(): Promise<StatusReport>;
}

/** Called once per control command: its verb (`send`, `list`, … or `invalid` when it did not
 *  parse) and `ok` or the error code it was answered with. */
export type CommandObserver = (verb: string, result: string) => void;
