import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { endpoint, gatewayConfig, testLog } from './config-fixture.js';
import { closed, nextMessage, openWs, wsUrl } from './helpers.js';

describe('echo over RFC 6455', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway(gatewayConfig([endpoint('/echo')]), { log: testLog });
  });
  afterAll(() => gw.close());

  it('echoes text and binary, and closes cleanly', async () => {
    const ws = await openWs(wsUrl(gw, '/echo'));
    ws.send('hello');
    expect(await nextMessage(ws)).toEqual({ data: Buffer.from('hello'), isBinary: false });
    const big = Buffer.alloc(200_000, 7);
    ws.send(big);
    const echoed = await nextMessage(ws);
    expect(echoed.isBinary).toBe(true);
    expect(echoed.data.equals(big)).toBe(true);
    ws.close(1000, 'bye');
    expect(await closed(ws)).toEqual({ code: 1000, reason: '' });
  });
});
