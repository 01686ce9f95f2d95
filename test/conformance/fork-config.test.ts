// A config written for the maintained mod_websocket fork (test/fixtures/config/fork/httpd.conf)
// served as it is: WebSocketMaxMessageSize, the Trusted origin check, and
// WebSocketAllowReservedStatusCodes; plus control frames counted against MaxMessageSize.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { OP } from './frame-builder.js';
import { startConformanceGateway, type ConformanceGateway } from './gateway-fixture.js';
import { expectCleanClose, expectFailure, expectMessages, expectPongs, text, withClient } from './outcome.js';
import { HandshakeRefused, openWebSocket, type RawClient } from './raw-client.js';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'config', 'fork', 'httpd.conf');
const trusted: [string, string][] = [['Origin', 'https://example.com']];
/** /legacy keeps the default WebSocketOriginCheck Same: the page's own origin. */
const sameOrigin = (): [string, string][] => [['Origin', `http://127.0.0.1:${port}`]];

let served: RunningGateway;
let port = 0;
beforeAll(async () => {
  const { config, diagnostics } = loadConfig(fixture, { env: {} });
  expect(diagnostics).toEqual([]);
  served = await startGateway({ ...config, listen: [{ host: '127.0.0.1', port: 0, loc: undefined }] }, { log: createLogger({ level: 'silent', pretty: false }) });
  port = served.addresses[0]!.port;
});
afterAll(() => served?.close());

/** The server's close frame arrives and TCP closes; `echoed` is the only code outside RFC 6455's list it may use. */
async function expectClosedWith(client: RawClient, code: number, echoed?: number): Promise<void> {
  expect(await client.waitForTcpClose(3000), `server did not close: ${client.describe()}`).toBe(true);
  expect(client.closeFrame()?.code, client.describe()).toBe(code);
  const allowed = echoed === undefined ? [] : [`server sent close code ${echoed}`];
  expect(client.violations().filter((v) => !allowed.includes(v))).toEqual([]);
}

describe('the fork-style fixture, served', () => {
  it('/echo (WebSocketAllowReservedStatusCodes On): echoes, and a close with 2000 gets a clean close echoing 2000', () =>
    withClient({ port, path: '/echo', headers: trusted }, async (client) => {
      client.sendFrame({ opcode: OP.text, payload: 'hello fork' });
      await expectMessages(client, [text('hello fork')]);
      client.sendClose(2000, 'bye');
      await expectClosedWith(client, 2000, 2000);
    }));

  for (const code of [1004, 1016, 2999]) {
    it(`/echo: other reserved codes (${code}) are accepted too`, () =>
      withClient({ port, path: '/echo', headers: trusted }, async (client) => {
        client.sendClose(code);
        await expectClosedWith(client, code, code);
      }));
  }

  for (const code of [1005, 1006, 1015, 999, 5000]) {
    it(`/echo: close ${code}, never valid on the wire → 1002 despite the setting`, () =>
      withClient({ port, path: '/echo', headers: trusted }, async (client) => {
        client.sendClose(code);
        await expectFailure(client, 1002);
      }));
  }

  it('/legacy (MaxMessageSize, no reserved codes): close 2000 → 1002; 1000 is a clean close', async () => {
    await withClient({ port, path: '/legacy', headers: sameOrigin() }, async (client) => {
      client.sendClose(2000);
      await expectFailure(client, 1002);
    });
    await withClient({ port, path: '/legacy', headers: sameOrigin() }, (client) => expectCleanClose(client));
  });

  it('/legacy: MaxMessageSize 1024 from the original name → 1009 over it', () =>
    withClient({ port, path: '/legacy', headers: sameOrigin() }, async (client) => {
      client.sendFrame({ opcode: OP.binary, payload: Buffer.alloc(1025) });
      await expectFailure(client, 1009);
    }));

  it('/echo: WebSocketOriginCheck Trusted refuses another origin with 403', async () => {
    const refused = await openWebSocket({ port, path: '/echo', headers: [['Origin', 'https://evil.example']] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HandshakeRefused);
    expect((refused as HandshakeRefused).head.status).toBe(403);
  });
});

describe('control frames count against MaxMessageSize 30 (as the fork)', () => {
  let gateway: ConformanceGateway;
  beforeAll(async () => {
    gateway = await startConformanceGateway({ maxMessageSize: 30 });
  });
  afterAll(() => gateway?.close());

  for (const [version, code] of [[13, 1009], [8, 1004], [7, 1004]] as const) {
    it(`v${version}: a ping of 30 bytes is answered; 31 bytes → ${code}`, async () => {
      await withClient({ port: gateway.port, version }, async (client) => {
        client.sendFrame({ opcode: OP.ping, payload: Buffer.alloc(30, 0x70) });
        await expectPongs(client, [Buffer.alloc(30, 0x70)]);
        await expectCleanClose(client);
      });
      await withClient({ port: gateway.port, version }, async (client) => {
        client.sendFrame({ opcode: OP.ping, payload: Buffer.alloc(31, 0x70) });
        await expectFailure(client, code);
        expect(client.pongs()).toEqual([]);
      });
    });
  }

  it('a close whose reason is 28 bytes is a clean close; 29 bytes → 1009', async () => {
    await withClient({ port: gateway.port }, async (client) => {
      client.sendClose(1000, 'r'.repeat(28));
      await expectClosedWith(client, 1000);
    });
    await withClient({ port: gateway.port }, async (client) => {
      client.sendClose(1000, 'r'.repeat(29));
      await expectFailure(client, 1009);
    });
  });
});
