// Values of the cluster directives (WebSocketClusterRedis, WebSocketClusterName, WebSocketNodeName).
import { hostname } from 'node:os';
import { ValueError } from './values.js';

const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or rediss://… (TLS); kept as written for the client. */
export function parseRedisUrl(value: string, directive: string): string {
  const example = 'redis://127.0.0.1:6379 or rediss://:PASSWORD@HOST:6380/2';
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw new ValueError(`${directive} takes a URL such as ${example}, not '${value}'`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ValueError(`${directive} takes a URL such as ${example}, not '${value}'`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ValueError(`${directive}: the URL must start with redis:// or rediss:// (TLS), not ${url.protocol}//`);
  }
  if (url.hostname === '') throw new ValueError(`${directive}: the URL names no host`);
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new ValueError(`${directive}: the path of the URL is the database number (/0, /1, …), not '/${db}'`);
  return value;
}

/** Cluster and node names become parts of Redis keys and of member names ('node/w1'). */
export function parseClusterName(value: string, directive: string): string {
  if (!NAME_PATTERN.test(value)) throw new ValueError(`${directive} takes 1-64 characters of A-Z a-z 0-9 . _ -, not '${value}'`);
  return value;
}

/** The default node name: the host name, cut to what a name may hold. */
export function defaultNodeName(): string {
  const name = hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
  return name === '' ? 'node' : name;
}

/** The URL without its credentials, for messages and logs. */
export function redactedRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return 'the configured URL';
  }
}
