// For the metrics tests: a gateway started on a config of their own, HTTP GETs against its control
// API or metrics listener, and reading the Prometheus text format.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOnce, listeningAddress, startServe, waitForLog, type ServeProcess } from '../server/spawned-serve.js';

export interface HttpAnswer {
  status: number;
  type: string | undefined;
  body: string;
}

/** GET http://ADDRESS/PATH, where ADDRESS is `host:port`. */
export function httpGet(address: string, path: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const at = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const req = request({ host: address.slice(0, at), port: Number(address.slice(at + 1)), path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `name{labels} value` lines of a text exposition → { 'name{labels}': value }. */
export function samples(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    map.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return map;
}

/** A `wsgate serve` started for a metrics test: its WebSocket base URL, and the addresses of its
 *  metrics listener and control API when the config has them. */
export interface MetricsGateway {
  served: ServeProcess;
  dir: string;
  ws: string;
  metricsAt: string | undefined;
  api: string | undefined;
}

/** Writes `config(dir)` to DIR/wsgate.conf in a fresh temp dir, serves it, and waits until it
 *  serves (with workers: all of them ready) and its HTTP listeners are up. Reap with stopAll(). */
export async function serveForMetrics(name: string, config: (dir: string) => string): Promise<MetricsGateway> {
  buildOnce();
  const dir = mkdtempSync(join(tmpdir(), `wsgate-${name}-`));
  const conf = join(dir, 'wsgate.conf');
  const text = config(dir);
  writeFileSync(conf, text);
  const served = startServe(['-f', conf]);
  const ws = `ws://${await listeningAddress(served)}`;
  const portOf = async (msg: string): Promise<string> => `127.0.0.1:${String((await waitForLog(served, msg))[0]!.port)}`;
  const metricsAt = /^WebSocketMetricsListen /m.test(text) ? await portOf('metrics listening') : undefined;
  const api = /^WebSocketControlListen /m.test(text) ? await portOf('control API listening') : undefined;
  return { served, dir, ws, metricsAt, api };
}
