// Loading JS handlers, validating them for `check`, and an orderly shutdown.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WsgateError } from '../../src/errors.js';
import { validateHandlers } from '../../src/plugins/validate.js';
import { startGateway } from '../../src/server/gateway.js';
import { endpoint, fixture, fixtureHandlers, gatewayConfig, jsHandler, testLog } from './config-fixture.js';
import { closed, handshakeStatus, nextMessage, openWs, wsUrl } from './helpers.js';

const events = (): Array<{ kind: string; id?: string }> =>
  ((globalThis as { __wsgateTestEvents?: Array<{ kind: string; id?: string }> }).__wsgateTestEvents ??= []);

async function startError(handler = fixture('behaviours.mjs', 'notAHandler')): Promise<WsgateError> {
  try {
    const gw = await startGateway(gatewayConfig([endpoint('/x', { handler })]), { log: testLog });
    await gw.close();
  } catch (err) {
    return err as WsgateError;
  }
  throw new Error('startGateway should have failed');
}

describe('JS handler loading', () => {
  it('refuses an export that is neither an object nor a function, at the directive', async () => {
    const handler = fixture('behaviours.mjs', 'notAHandler');
    const err = await startError(handler);
    expect(err).toBeInstanceOf(WsgateError);
    expect(err.code).toBe('CONFIG_HANDLER');
    expect(err.loc).toEqual(handler.loc);
    expect(err.message).toMatch(/notAHandler.*number/);
  });

  it('refuses a handler whose members are not functions, a missing export and a missing module', async () => {
    expect((await startError(fixture('behaviours.mjs', 'badShape'))).message).toMatch(/onMessage must be a function/);
    expect((await startError(fixture('behaviours.mjs', 'nope'))).message).toMatch(/has no such export/);
    const missing = await startError(jsHandler(resolve(fixtureHandlers, 'missing.mjs')));
    expect(missing.code).toBe('PLUGIN_LOAD');
    expect(missing.loc).toBeDefined();
  });

  it('a subprotocol the client did not offer is refused with 500, never sent', async () => {
    const gw = await startGateway(gatewayConfig([endpoint('/outsider', { handler: fixture('behaviours.mjs', 'protocolOutsider') })]), { log: testLog });
    try {
      expect((await handshakeStatus(wsUrl(gw, '/outsider'), ['chat'])).status).toBe(500);
    } finally {
      await gw.close();
    }
  });

  it('resolves relative module paths against ServerRoot', async () => {
    const config = gatewayConfig([endpoint('/rel', { handler: jsHandler('behaviours.mjs', 'echo') })], { serverRoot: fixtureHandlers });
    const gw = await startGateway(config, { log: testLog });
    const ws = await openWs(wsUrl(gw, '/rel'));
    ws.send('relative');
    expect((await nextMessage(ws)).data.toString()).toBe('relative');
    ws.terminate();
    await gw.close();
  });

  it('validateHandlers reports each broken handler once, with its location', async () => {
    const broken = fixture('behaviours.mjs', 'notAHandler');
    const config = gatewayConfig([
      endpoint('/ok', { handler: fixture('behaviours.mjs', 'echo') }),
      endpoint('/factory', { handler: fixture('behaviours.mjs', 'counted') }),
      endpoint('/bad', { handler: broken }),
      endpoint('/gone', { handler: jsHandler(resolve(fixtureHandlers, 'missing.mjs')) }),
    ]);
    const before = events().filter((e) => e.kind === 'factory').length;
    const diagnostics = await validateHandlers(config);
    expect(diagnostics.map((d) => d.code)).toEqual(['CONFIG_HANDLER', 'PLUGIN_LOAD']);
    expect(diagnostics[0]!.loc).toEqual(broken.loc);
    expect(diagnostics.every((d) => d.severity === 'error')).toBe(true);
    // Validation imports but does not call factories.
    expect(events().filter((e) => e.kind === 'factory').length).toBe(before);
  });

  it('reports a port in use as an IO error', async () => {
    const first = await startGateway(gatewayConfig([endpoint('/echo')]), { log: testLog });
    const port = first.addresses[0]!.port;
    const err = await startGateway(gatewayConfig([endpoint('/echo')]), { log: testLog, listen: [{ host: '127.0.0.1', port, loc: undefined }] }).then(
      () => undefined,
      (e: unknown) => e as WsgateError,
    );
    expect(err?.code).toBe('IO');
    expect(err?.message).toMatch(/EADDRINUSE/);
    await first.close();
  });
});

describe('shutdown', () => {
  it('closes every client with 1001, awaits async onDisconnect, then destroys handlers', async () => {
    const gw = await startGateway(gatewayConfig([endpoint('/slow', { handler: fixture('behaviours.mjs', 'slowDisconnect') })]), { log: testLog });
    const clients = await Promise.all([1, 2, 3].map((n) => openWs(wsUrl(gw, `/slow?id=shutdown-${n}`))));
    const codes = Promise.all(clients.map(closed));
    events().length = 0;
    await gw.close();
    expect((await codes).map((c) => c.code)).toEqual([1001, 1001, 1001]);
    const kinds = events().map((e) => e.kind);
    expect(kinds.filter((k) => k === 'slow-disconnect-done')).toHaveLength(3);
    expect(kinds.indexOf('destroy')).toBe(kinds.length - 1);
    await expect(openWs(wsUrl(gw, '/slow'))).rejects.toThrow();
  });
});
