// WebSocketClusterRedis, WebSocketClusterName, WebSocketNodeName: no cluster unless the Redis URL
// is given; defaults; clear errors at the argument.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { check } from '../../src/cli/check.js';
import { loadConfigText } from '../../src/config/load.js';
import { brief, captureIO, tempTree } from './helpers.js';

const root = tempTree({ 'h/echo.mjs': 'export default {};\n' });
const load = (text: string) => loadConfigText(text, join(root, 'w.conf'), { env: {} });

test('no cluster without WebSocketClusterRedis; the names alone only warn', () => {
  expect(load('').config.cluster).toBeUndefined();
  const { config, diagnostics } = load('WebSocketNodeName n1\n');
  expect(config.cluster).toBeUndefined();
  expect(brief(diagnostics)).toEqual(['1:1 warning WebSocketClusterName and WebSocketNodeName have no effect without WebSocketClusterRedis']);
});

test('defaults: cluster "wsgate", node = the host name; URLs with password, TLS and database', () => {
  expect(load('WebSocketClusterRedis redis://127.0.0.1:6379\n').config.cluster).toEqual({
    redis: 'redis://127.0.0.1:6379',
    name: 'wsgate',
    node: hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64),
  });
  const { config, diagnostics } = load('WebSocketClusterName shop\nWebSocketNodeName web-2\nWebSocketClusterRedis rediss://:s3cret@redis.example:6380/2\n');
  expect(diagnostics).toEqual([]);
  expect(config.cluster).toEqual({ redis: 'rediss://:s3cret@redis.example:6380/2', name: 'shop', node: 'web-2' });
});

test('bad values say what is expected, at the argument; server context only', () => {
  expect(
    brief(
      load(
        'WebSocketClusterRedis http://x\nWebSocketClusterRedis localhost:6379\nWebSocketClusterRedis redis://h/db\nWebSocketNodeName a/b\nWebSocketClusterName ""\n' +
          '<Location /x>\nWebSocketNodeName n\n</Location>\n',
      ).diagnostics,
    ),
  ).toMatchInlineSnapshot(`
    [
      "1:23 error WebSocketClusterRedis: the URL must start with redis:// or rediss:// (TLS), not http://",
      "2:23 error WebSocketClusterRedis takes a URL such as redis://127.0.0.1:6379 or rediss://:PASSWORD@HOST:6380/2, not 'localhost:6379'",
      "3:23 error WebSocketClusterRedis: the path of the URL is the database number (/0, /1, …), not '/db'",
      "4:19 error WebSocketNodeName takes 1-64 characters of A-Z a-z 0-9 . _ -, not 'a/b'",
      "5:22 error WebSocketClusterName takes 1-64 characters of A-Z a-z 0-9 . _ -, not ''",
      "7:1 error WebSocketNodeName is not allowed in <Location>/<LocationMatch>; it belongs in the main server config",
    ]
  `);
});

test('check --verbose shows the cluster, without the password', async () => {
  const dir = tempTree({ 'w.conf': 'WebSocketClusterRedis redis://:s3cret@10.0.0.5:6379/1\nWebSocketNodeName web-1\n' });
  const { io, out } = captureIO(dir);
  expect(await check(['-f', 'w.conf', '--verbose'], io)).toBe(0);
  expect(out()).toContain('cluster: wsgate, this node web-1, Redis redis://10.0.0.5:6379/1\n');
  expect(out()).not.toContain('s3cret');
});
