// Regex Locations cannot stall the event loop (issue 14, item 4): the config refuses patterns that
// backtrack exponentially or cost more than the budget on a 2 KiB path, and the router tries regex
// Locations only on paths up to that length. A canary keeps echoing while hostile paths arrive.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hasErrors } from '../../src/config/diagnostics.js';
import { loadConfigText } from '../../src/config/load.js';
import { maxRegexPathLength } from '../../src/config/pcre.js';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { Canary } from './canary.js';
import { repoRoot, testLog } from './config-fixture.js';
import { handshakeStatus, wsUrl } from './helpers.js';

const echo = join(repoRoot, 'handlers/echo.mjs');
const location = (section: string): string => `${section}\nSetHandler websocket-handler\nWebSocketHandler ${echo}\n`;

let gw: RunningGateway;

beforeAll(async () => {
  // The costliest pattern the budget allows: two unbounded repeats (2048² steps on a failing path).
  const text =
    `Listen 127.0.0.1:0\nWebSocketWorkers 0\n${location('<Location /echo>')}</Location>\n${location('<LocationMatch "^/r/[a-z]*x[a-z]*y$">')}</LocationMatch>\n` +
    // A wildcard alias whose stars would each multiply the backtracking on a long hostile Host.
    `<VirtualHost *>\nServerName first.example\n</VirtualHost>\n<VirtualHost *>\nServerName named.example\nServerAlias *.*.*.example.com\n${location('<Location /v>')}</Location>\n</VirtualHost>\n`;
  const { config, diagnostics } = loadConfigText(text, join(repoRoot, 'regex-budget.conf'), { env: {} });
  expect(hasErrors(diagnostics)).toBe(false);
  gw = await startGateway(config, { log: testLog });
});

afterAll(async () => {
  await gw?.close();
});

describe('regex Location budget', () => {
  test("the issue's pattern never reaches the router: the config refuses it", () => {
    const { diagnostics } = loadConfigText(`${location('<LocationMatch "^/(a+)+$">')}</LocationMatch>\n`, join(repoRoot, 'x.conf'), { env: {} });
    expect(diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.loc.line}:${d.loc.column} ${d.message.split(' (JavaScript')[0]}`)).toEqual([
      "1:16 regular expression '^/(a+)+$' could block the gateway on a hostile path",
    ]);
  });

  test('hostile paths against the costliest allowed pattern: answered, and the canary keeps echoing', async () => {
    const canary = await Canary.start(wsUrl(gw, '/echo'));
    const worst = `/r/${'x'.repeat(maxRegexPathLength - 3)}`; // matches up to the missing y: the most backtracking
    const tooLong = `/r/${'x'.repeat(4 * maxRegexPathLength)}y`; // would match, but is longer than regex Locations are tried on
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      statuses.push((await handshakeStatus(wsUrl(gw, worst))).status);
      statuses.push((await handshakeStatus(wsUrl(gw, tooLong))).status);
    }
    const matching = await handshakeStatus(wsUrl(gw, `/r/${'x'.repeat(100)}y`));
    const report = await canary.stop();
    expect(statuses).toEqual(Array<number>(40).fill(404));
    expect(matching.status).toBe(101);
    expect(report.echoed).toBe(report.sent);
    expect(report.sent).toBeGreaterThan(0);
    expect(report.maxMs).toBeLessThan(500);
  });

  test('a 10,000-character Host is not tried against wildcard ServerAliases; the canary keeps echoing', async () => {
    const canary = await Canary.start(wsUrl(gw, '/echo'));
    const hostile = `${'.'.repeat(10_000)}x`;
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await handshakeStatus(wsUrl(gw, '/v'), undefined, { headers: { host: hostile } })).status);
    const named = await handshakeStatus(wsUrl(gw, '/v'), undefined, { headers: { host: 'a.b.c.example.com' } });
    const report = await canary.stop();
    expect(statuses).toEqual(Array<number>(10).fill(404)); // the first vhost, which has no /v
    expect(named.status).toBe(101);
    expect(report.echoed).toBe(report.sent);
    expect(report.maxMs).toBeLessThan(500);
  });
});
