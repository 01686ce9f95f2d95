// A connection in its close handshake (a peer that never answers the close frame) is gone from
// LIST at the same moment SEND and INFO stop finding it, on both transports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hybiRequest, RawClient } from '../server/helpers.js';
import { converse } from './helpers.js';
import { liveToken, startLiveGateway, type LiveGateway } from './live-gateway.js';

describe('closing connections', () => {
  let live: LiveGateway;
  beforeAll(async () => {
    live = await startLiveGateway();
  });
  afterAll(() => live?.close());

  it('are listed by nobody once CLOSE has started the handshake', async () => {
    const raw = await RawClient.open(live.gw.addresses[0]!.port);
    try {
      raw.write(hybiRequest('/echo?id=stubborn'));
      expect(await raw.head()).toMatch(/^HTTP\/1\.1 101/);
      const before = await converse(live.socketPath, 'LIST /echo\n', (got) => got.includes('END'));
      expect(before.some((l) => l.startsWith('stubborn '))).toBe(true);

      // The raw client never answers the close frame, so the gateway stays in its close handshake.
      const answer = await converse(live.socketPath, 'CLOSE stubborn 4000\nLIST /echo\nLIST DETAILS\nINFO stubborn\nSEND MESSAGE stubborn x\n', (got) => got.length >= 3 && got.at(-1)!.startsWith('ERR') && got.filter((l) => l.startsWith('ERR')).length === 2);
      expect(answer[0]).toBe('OK CLOSED');
      expect(answer.some((l) => l.startsWith('stubborn ') || l.includes('"id":"stubborn"'))).toBe(false);
      expect(answer.filter((l) => l.startsWith('ERR'))).toEqual([
        "ERR CONTROL_NOT_FOUND no open connection with id 'stubborn'",
        "ERR CONTROL_NOT_FOUND no open connection with id 'stubborn'",
      ]);
      const http = (await (await fetch(`${live.httpBase}/connections`, { headers: { authorization: `Bearer ${liveToken}` } })).json()) as { connections: Array<{ id: string }> };
      expect(http.connections.map((c) => c.id)).not.toContain('stubborn');
      // Still in the handshake: the close frame arrived and the socket is not closed yet.
      const afterHead = (b: Buffer) => b.subarray(b.indexOf('\r\n\r\n') + 4);
      expect(afterHead(await raw.until((b) => afterHead(b).includes(0x88), 1500))[0]).toBe(0x88);
      expect(raw.ended).toBe(false);
    } finally {
      raw.destroy();
    }
  });
});
