// End to end over real sockets on 127.0.0.1: a minimal echo server built only from the protocol
// API (handshake + codec) talks to the `ws` client (versions 13 and 8) and to a raw draft-76 client.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  createHixieDecoder,
  createHybiDecoder,
  detectHandshake,
  errorResponse,
  handshakeErrorResponse,
  hixie76Answer,
  hixieEncoder,
  hixieResponse,
  hybiAcceptKey,
  hybiEncoder,
  hybiResponse,
  offeredProtocols,
  requestOrigin,
  validateHybiKey,
  type Decoder,
  type Encoder,
} from '../../src/protocol/index.js';
import { isWsgateError } from '../../src/errors.js';

const origins: Array<string | undefined> = [];

function attach(socket: Socket, encoder: Encoder, makeDecoder: (sink: Parameters<typeof createHybiDecoder>[0]) => Decoder, head: Buffer): void {
  const write = (chunks: Buffer[] | undefined) => chunks?.forEach((c) => socket.write(c));
  const decoder = makeDecoder({
    onMessage: (data, isBinary) => write(encoder.message(data, isBinary)),
    onPing: (data) => write(encoder.pong(data)),
    onPong: () => undefined,
    onClose: (code, reason) => {
      write(encoder.close(code === 1005 ? undefined : code, reason));
      socket.end();
    },
    onError: (error) => {
      write(encoder.close(error.closeCode, error.message));
      socket.end();
    },
  });
  socket.on('data', (chunk: Buffer) => decoder.push(chunk));
  if (head.length > 0) decoder.push(head);
}

function onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
  socket.on('error', () => undefined);
  try {
    const kind = detectHandshake(req);
    origins.push(requestOrigin(kind, req.headers));
    if (kind.kind === 'hybi') {
      const accept = hybiAcceptKey(validateHybiKey(req.headers));
      socket.write(hybiResponse(accept, offeredProtocols(req.headers, kind)[0], [['X-Test', 'yes']]));
      const tooBigCloseCode = kind.version === 13 ? 1009 : 1004;
      attach(socket, hybiEncoder, (sink) => createHybiDecoder(sink, { maxMessageSize: 2 << 20, requireMask: true, tooBigCloseCode }), head);
    } else if (kind.kind === 'hixie-76') {
      const answer = hixie76Answer(String(req.headers['sec-websocket-key1']), String(req.headers['sec-websocket-key2']), head.subarray(0, 8));
      const location = `ws://${req.headers.host}${req.url}`;
      const origin = requestOrigin(kind, req.headers);
      socket.write(hixieResponse({ version: 'hixie-76', origin, location, protocol: offeredProtocols(req.headers, kind)[0], headers: [], answer }));
      attach(socket, hixieEncoder, (sink) => createHixieDecoder(sink, { maxMessageSize: 1 << 20 }), head.subarray(8));
    } else {
      socket.end(errorResponse(400));
    }
  } catch (err) {
    if (!isWsgateError(err)) throw err;
    socket.end(handshakeErrorResponse(err));
  }
}

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((_req, res) => res.writeHead(426).end());
  server.on('upgrade', onUpgrade);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function open(version: 13 | 8): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/echo`, ['chat', 'other'], { protocolVersion: version, origin: 'http://origin.test' });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<[Buffer, boolean]> {
  return new Promise((resolve) => ws.once('message', (data: Buffer, isBinary: boolean) => resolve([data, isBinary])));
}

describe('ws client against the protocol API', () => {
  for (const version of [13, 8] as const) {
    it(`version ${version}: subprotocol, text, 1 MiB binary, fragments, ping, close with reason`, async () => {
      const ws = await open(version);
      expect(ws.protocol).toBe('chat');
      expect(origins.at(-1)).toBe('http://origin.test');

      const text = nextMessage(ws);
      ws.send('héllo €𝄞');
      expect((await text)[0].toString()).toBe('héllo €𝄞');

      const big = Buffer.alloc(1 << 20);
      for (let i = 0; i < big.length; i++) big[i] = (i * 13) & 0xff;
      const binary = nextMessage(ws);
      ws.send(big);
      const [echoed, isBinary] = await binary;
      expect(isBinary).toBe(true);
      expect(echoed.equals(big)).toBe(true);

      const fragmented = nextMessage(ws);
      ws.send('part one, ', { fin: false });
      ws.send('part two', { fin: true });
      expect((await fragmented)[0].toString()).toBe('part one, part two');

      const pong = new Promise<Buffer>((resolve) => ws.once('pong', resolve));
      ws.ping('are you there');
      expect((await pong).toString()).toBe('are you there');

      const closed = new Promise<[number, string]>((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
      ws.close(4001, 'bye ✓');
      expect(await closed).toEqual([4001, 'bye ✓']);
    });
  }

  it('rejects an unsupported version with 400 and the supported list', async () => {
    const answer = await rawExchange(
      'GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 9\r\n\r\n',
    );
    expect(answer.toString()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer.toString()).toContain('Sec-WebSocket-Version: 13, 8, 7\r\n');
  });
});

/** Sends raw bytes, collects everything until the server closes (bounded by a timeout). */
function rawExchange(request: string | Buffer, after?: (received: Buffer, socket: Socket) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer within 5 s'));
    }, 5000);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      after?.(Buffer.concat(chunks), socket);
    });
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.write(request);
  });
}

describe('raw draft-76 client', () => {
  it("gets the draft's example answer, then echoes text and closes on 0xFF 0x00", async () => {
    const request = Buffer.concat([
      Buffer.from(
        'GET /demo HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n' +
          'Sec-WebSocket-Protocol: sample\r\nUpgrade: WebSocket\r\nSec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\n' +
          'Origin: http://example.com\r\n\r\n',
      ),
      Buffer.from('^n:ds[4U', 'latin1'),
    ]);
    let sent = false;
    const received = await rawExchange(request, (soFar, socket) => {
      if (!sent && soFar.includes("8jKS'y:G*Co,Wxa-")) {
        sent = true;
        socket.write(Buffer.from([0x00, ...Buffer.from('hi €'), 0xff, 0xff, 0x00]));
      }
    });
    const text = received.toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 101 WebSocket Protocol Handshake\r\n/);
    expect(text).toContain('Sec-WebSocket-Origin: http://example.com\r\n');
    expect(text).toContain('Sec-WebSocket-Location: ws://example.com/demo\r\n');
    expect(text).toContain('Sec-WebSocket-Protocol: sample\r\n');
    const body = received.subarray(received.indexOf('\r\n\r\n') + 4);
    expect(body.toString('latin1')).toBe("8jKS'y:G*Co,Wxa-" + Buffer.from([0x00, ...Buffer.from('hi €'), 0xff, 0xff, 0x00]).toString('latin1'));
  });
});
