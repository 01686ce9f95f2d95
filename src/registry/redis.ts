// The node bus over Redis (WebSocketClusterRedis): a node (one `wsgate serve`) claims its ids in
// Redis, routes the part of a command its own workers cannot answer to the other nodes by
// PUBLISH, and executes what they send it on its own registry. Loaded only with a cluster.
//
// - Liveness: every HEARTBEAT_MS the node renews wsgate:C:node:NODE and each id it holds with a
//   TTL of 3 × HEARTBEAT_MS, so a node that dies disappears from LIST and frees its ids within
//   3 s, with no per-connection cleanup left to anyone.
// - Ordering: one command connection per node, and routing is one Lua call on it (look up the
//   owner and publish atomically), so what a node sends reaches Redis, and each receiving node,
//   in the order it was sent. Replies come back on the requester's own channel by request id.
// - Redis down: commands are not queued (ioredis' offline queue is off): the part for other nodes
//   answers `unreachable: ["redis"]` at once, local connections are untouched, claims are granted
//   locally and made in Redis when it is back; ioredis reconnects with back-off.
import { randomBytes } from 'node:crypto';
import { Redis, type ChainableCommander } from 'ioredis';
import type { Logger } from 'pino';
import { redactedRedisUrl } from '../config/cluster-values.js';
import { WsgateError } from '../errors.js';
import { emptyOutcome, mergeOutcomes, unreachableOutcome } from './outcome.js';
import { CLAIM, FAN_OUT, HEARTBEAT, RELEASE, ROUTE } from './redis-scripts.js';
import { ClusterKeys, commandMessage, parseNodeMessage, parsePush, replyMessage } from './redis-wire.js';
import { targetId, type NodeBus, type Outcome, type RegistryCommand } from './types.js';

export interface RedisBusOptions {
  /** redis:// or rediss:// URL. */
  url: string;
  cluster: string;
  node: string;
  log: Logger;
  /** Liveness period; ids and the node expire after three of them (default 1000). */
  heartbeatMs?: number;
  /** How long another node has to answer one command (default 2000). */
  timeoutMs?: number;
  /** How long start() waits for Redis (default 5000). */
  connectTimeoutMs?: number;
}

/** The name in `unreachable` when Redis itself cannot be reached. */
export const BUS_MEMBER = 'redis';

const SCRIPTS = { wsgateClaim: CLAIM, wsgateRelease: RELEASE, wsgateRoute: ROUTE, wsgateFanOut: FAN_OUT, wsgateHeartbeat: HEARTBEAT };
type ScriptName = keyof typeof SCRIPTS;
type Scripted = Record<ScriptName, (...args: Array<string | number>) => Promise<unknown>>;

/** Connects, makes sure no live node uses this name, subscribes and starts the heartbeat. */
export async function startRedisNodeBus(options: RedisBusOptions): Promise<RedisNodeBus> {
  const bus = new RedisNodeBus(options);
  try {
    await bus.start();
  } catch (err) {
    await bus.close();
    throw err;
  }
  return bus;
}

/** Answers gathered for one command sent to other nodes. */
class Collector {
  private readonly replies = new Map<string, Outcome>();
  private expected: Set<string> | undefined;
  private readonly unreachable: string[] = [];
  private resolve!: (outcome: Outcome) => void;
  readonly done = new Promise<Outcome>((r) => (this.resolve = r));
  private readonly timer: NodeJS.Timeout;

  constructor(timeoutMs: number, onEnd: () => void) {
    this.timer = setTimeout(() => this.finish(), timeoutMs);
    this.timer.unref();
    void this.done.then(onEnd);
  }

  /** The nodes the command was published to, with the number of their subscriptions that got it. */
  expect(targets: Array<[string, number]>): void {
    this.expected = new Set();
    for (const [node, receivers] of targets) {
      if (receivers > 0) this.expected.add(node);
      else this.unreachable.push(node);
    }
    this.check();
  }

  add(node: string, outcome: Outcome): void {
    this.replies.set(node, outcome);
    if (this.expected) this.check();
  }

  private check(): void {
    if ([...this.expected!].every((n) => this.replies.has(n))) this.finish();
  }

  private finish(): void {
    clearTimeout(this.timer);
    const missing = this.expected ? [...this.expected].filter((n) => !this.replies.has(n)) : [];
    const parts = [...this.replies.values()];
    this.resolve(mergeOutcomes([emptyOutcome(), ...parts, { count: 0, connections: [], unreachable: [...this.unreachable, ...missing] }]));
  }
}

export class RedisNodeBus implements NodeBus {
  readonly node: string;
  private readonly keys: ClusterKeys;
  private readonly log: Logger;
  private readonly heartbeatMs: number;
  private readonly ttlMs: number;
  private readonly timeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly token = randomBytes(8).toString('hex');
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  /** Ids this node holds, with their owner value 'NODE/MEMBER', renewed by the heartbeat. */
  private readonly held = new Map<string, string>();
  private readonly pending = new Map<number, Collector>();
  private nextRid = 1;
  private runLocal: ((command: RegistryCommand) => Promise<Outcome>) | undefined;
  private up = false;
  private started = false;
  private beating = false;
  private timer: NodeJS.Timeout | undefined;
  /** The socket error behind ioredis' 'Connection is closed' (ECONNREFUSED, ENOTFOUND, …). */
  private lastError: string | undefined;

  constructor(private readonly options: RedisBusOptions) {
    this.node = options.node;
    this.keys = new ClusterKeys(options.cluster);
    this.log = options.log.child({ cluster: options.cluster, node: options.node });
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.ttlMs = 3 * this.heartbeatMs;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    const redisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      connectTimeout: this.connectTimeoutMs,
      // Back-off: 0.1 s, 0.2 s, 0.4 s, … up to 2 s between attempts, for as long as it takes.
      retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times - 1, 5), 2000),
    };
    this.commands = new Redis(options.url, redisOptions);
    this.subscriber = new Redis(options.url, { ...redisOptions, connectionName: `wsgate:${this.node}:sub` });
    for (const [name, lua] of Object.entries(SCRIPTS)) this.commands.defineCommand(name, { numberOfKeys: 0, lua });
    this.commands.on('error', (err: Error) => {
      this.lastError = err.message;
      this.log.debug({ err: err.message }, 'cluster bus error');
    });
    this.subscriber.on('error', (err: Error) => this.log.debug({ err: err.message }, 'cluster bus subscriber error'));
    this.commands.on('ready', () => this.onReady());
    this.commands.on('close', () => this.onDown());
    this.subscriber.on('message', (channel: string, text: string) => this.receive(channel, text));
  }

  async start(): Promise<void> {
    const where = redactedRedisUrl(this.options.url);
    try {
      await Promise.all([this.commands.connect(), this.subscriber.connect()]);
    } catch (err) {
      throw new WsgateError('IO', `cannot reach the cluster's Redis at ${where}: ${this.lastError ?? (err as Error).message}`);
    }
    await this.takeName();
    await this.subscriber.subscribe(this.keys.to(this.node), this.keys.push);
    this.started = true;
    this.up = this.commands.status === 'ready';
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.timer.unref();
    this.log.info({ redis: where, heartbeatMs: this.heartbeatMs }, 'cluster bus connected');
  }

  /** A name held by a live node stays held: its heartbeat renews it. One left by a node that
   *  died expires within the TTL, so a restart right after a crash waits for that, no longer. */
  private async takeName(): Promise<void> {
    const deadline = Date.now() + this.ttlMs + this.heartbeatMs;
    for (;;) {
      if ((await this.script('wsgateHeartbeat', this.keys.prefix, this.node, this.token, this.ttlMs)) === 1) return;
      if (Date.now() > deadline) {
        throw new WsgateError(
          'CONFIG_VALUE',
          `WebSocketNodeName ${this.node}: a live node of cluster '${this.options.cluster}' already uses this name (its heartbeat key ${this.keys.node(this.node)} keeps being renewed); give each node its own WebSocketNodeName`,
        );
      }
      await new Promise((r) => setTimeout(r, this.heartbeatMs / 2));
    }
  }

  serve(runLocal: (command: RegistryCommand) => Promise<Outcome>): void {
    this.runLocal = runLocal;
  }

  async claim(id: string, member: string): Promise<boolean> {
    // 'NODE/wN' from a supervisor, 'NODE' from a single process (stored as 'NODE/NODE').
    const owner = member.startsWith(`${this.node}/`) ? member : `${this.node}/${member}`;
    this.held.set(id, owner);
    if (!this.up) return true;
    try {
      if ((await this.script('wsgateClaim', this.keys.prefix, id, owner, this.ttlMs, this.node)) === 1) return true;
    } catch {
      return true; // the bus went down meanwhile: granted here, made in Redis when it is back
    }
    if (this.held.get(id) === owner) this.held.delete(id);
    return false;
  }

  release(id: string): void {
    if (!this.held.delete(id) || !this.up) return;
    this.script('wsgateRelease', this.keys.prefix, id, this.node).catch(() => undefined);
  }

  /** Publishes before returning (no await first), so calls in a row keep their order. */
  run(command: RegistryCommand): Promise<Outcome> {
    if (!this.up) return Promise.resolve(unreachableOutcome(BUS_MEMBER));
    const rid = this.nextRid++;
    const message = commandMessage(rid, this.node, command);
    const collector = new Collector(this.timeoutMs, () => this.pending.delete(rid));
    this.pending.set(rid, collector);
    const id = targetId(command);
    const routed =
      id !== undefined
        ? this.script('wsgateRoute', this.keys.prefix, id, this.node, message)
        : this.script('wsgateFanOut', this.keys.prefix, this.node, message);
    routed.then(
      (answer) => collector.expect(pairs(answer)),
      () => {
        this.pending.delete(rid);
        collector.add(BUS_MEMBER, unreachableOutcome(BUS_MEMBER));
        collector.expect([[BUS_MEMBER, 1]]);
      },
    );
    return collector.done;
  }

  /** Leaves the cluster: its name and ids are free at once instead of after the TTL. */
  /** Redis answers now (false while it is down and ioredis reconnects). */
  get connected(): boolean {
    return this.up;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    if (this.up) {
      const p = this.commands.pipeline() as unknown as ChainableCommander & Record<ScriptName, (...args: Array<string | number>) => unknown>;
      p.del(this.keys.node(this.node));
      p.srem(this.keys.nodes, this.node);
      for (const id of this.held.keys()) p.wsgateRelease(this.keys.prefix, id, this.node);
      await Promise.race([p.exec().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    }
    this.up = false;
    this.commands.disconnect();
    this.subscriber.disconnect();
  }

  private script(name: ScriptName, ...args: Array<string | number>): Promise<unknown> {
    return (this.commands as unknown as Scripted)[name](...args);
  }

  private onReady(): void {
    if (!this.started) return;
    this.up = true;
    this.log.info('cluster bus reconnected');
    void this.beat();
  }

  private onDown(): void {
    if (!this.up) return;
    this.up = false;
    this.log.warn('cluster bus unavailable: this node keeps serving its own connections; reconnecting with back-off');
  }

  /** Renews the node and every id it holds (re-claiming them after an outage). */
  private async beat(): Promise<void> {
    if (!this.up || this.beating) return;
    this.beating = true;
    try {
      const p = this.commands.pipeline() as unknown as ChainableCommander & Record<ScriptName, (...args: Array<string | number>) => unknown>;
      p.wsgateHeartbeat(this.keys.prefix, this.node, this.token, this.ttlMs);
      const ids = [...this.held];
      for (const [id, owner] of ids) p.wsgateClaim(this.keys.prefix, id, owner, this.ttlMs, this.node);
      const results = (await p.exec()) ?? [];
      if (results[0]?.[1] === 0) this.log.error(`another node took the name ${this.node} while this one could not reach Redis; give each node its own WebSocketNodeName`);
      for (const [i, [id]] of ids.entries()) {
        if (results[i + 1]?.[1] === 0) this.log.warn({ id }, 'another node claimed this connection id while this node could not reach Redis; both now hold it');
      }
    } catch {
      // down again: the next beat after 'ready' renews
    } finally {
      this.beating = false;
    }
  }

  private receive(channel: string, text: string): void {
    if (channel === this.keys.push) return this.push(text);
    const message = parseNodeMessage(text);
    if (!message) {
      this.log.warn({ channel }, 'cluster bus: ignored a message that is not one of wsgate\'s');
      return;
    }
    if (message.t === 'reply') {
      this.pending.get(message.rid)?.add(message.from, message.outcome);
      return;
    }
    const { rid, from, command } = message;
    this.execute(command).then((outcome) => {
      if (this.up) this.commands.publish(this.keys.to(from), replyMessage(rid, this.node, outcome)).catch(() => undefined);
    });
  }

  private push(text: string): void {
    let command: RegistryCommand;
    try {
      command = parsePush(text);
    } catch (err) {
      this.log.warn({ channel: this.keys.push, reason: (err as Error).message, message: text.slice(0, 200) }, 'push ignored');
      return;
    }
    void this.execute(command);
  }

  /** Never rejects: a command this node cannot run (a bad close code) answers empty and is logged. */
  private execute(command: RegistryCommand): Promise<Outcome> {
    const runLocal = this.runLocal;
    if (!runLocal) return Promise.resolve(emptyOutcome());
    return Promise.resolve()
      .then(() => runLocal(command))
      .catch((err: unknown) => {
        this.log.warn({ op: command.op, reason: err instanceof Error ? err.message : String(err) }, 'cluster command failed here');
        return emptyOutcome();
      });
  }
}

/** {node1, n1, node2, n2, …} from a script. */
function pairs(answer: unknown): Array<[string, number]> {
  const flat = Array.isArray(answer) ? answer : [];
  const out: Array<[string, number]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([String(flat[i]), Number(flat[i + 1])]);
  return out;
}
