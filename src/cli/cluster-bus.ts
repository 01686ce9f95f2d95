// WebSocketClusterRedis: the node bus of `wsgate serve`. The Redis code (and ioredis) is imported
// only when the config names a cluster, so a single node loads none of it.
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/model.js';
import type { NodeBus } from '../registry/types.js';

export interface RunningNodeBus extends NodeBus {
  /** Redis answers now (readiness, metrics, status). */
  readonly connected: boolean;
  close(): Promise<void>;
}

/** undefined without a cluster. Rejects with a WsgateError: IO (Redis unreachable) or
 *  CONFIG_VALUE (the node name is held by a live node). */
export async function startClusterBus(config: GatewayConfig, log: Logger): Promise<RunningNodeBus | undefined> {
  const cluster = config.cluster;
  if (!cluster) return undefined;
  const { startRedisNodeBus } = await import('../registry/redis.js');
  return startRedisNodeBus({ url: cluster.redis, cluster: cluster.name, node: cluster.node, log });
}

/** The member name of worker N: `wN`, or `NODE/wN` in a cluster. */
export function workerMember(config: GatewayConfig, id: number | string): string {
  return config.cluster ? `${config.cluster.node}/w${id}` : `w${id}`;
}
