// HTTP GETs against a live gateway's control API or metrics listener, and reading the Prometheus
// text format, for the metrics tests.
import { request } from 'node:http';

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
