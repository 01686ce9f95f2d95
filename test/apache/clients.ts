// Test clients: a `ws` client with a message queue, and a raw hixie-76 (draft-76) client.
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';

export interface Received {
  data: Buffer;
  isBinary: boolean;
}

export interface QueuedClient {
  ws: WebSocket;
  next(timeoutMs?: number): Promise<Received>;
  nextText(timeoutMs?: number): Promise<string>;
  closed: Promise<{ code: number; reason: string }>;
}

export function openClient(url: string, options: WebSocket.ClientOptions & { protocols?: string[] } = {}): Promise<QueuedClient> {
  const { protocols, ...rest } = options;
  const ws = new WebSocket(url, protocols ?? [], { handshakeTimeout: 5_000, ...rest });
  const queue: Received[] = [];
  const waiters: Array<(r: Received) => void> = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const item = { data, isBinary };
    const waiter = waiters.shift();
    if (waiter) waiter(item);
    else queue.push(item);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  const next = (timeoutMs = 5_000): Promise<Received> => {
    const item = queue.shift();
    if (item) return Promise.resolve(item);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message within the time limit')), timeoutMs);
      waiters.push((r) => { clearTimeout(timer); resolve(r); });
    });
  };
  const client: QueuedClient = { ws, next, nextText: async (t) => (await next(t)).data.toString('utf8'), closed };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
  });
}

/** Sends one text message and waits for the answer. */
export async function ask(client: QueuedClient, text: string): Promise<string> {
  client.ws.send(text);
  return client.nextText();
}

/** The example handshake of draft-hixie-thewebsocketprotocol-76, section 1.3. */
export const hixie76Example = {
  key1: '18x 6]8vM;54 *(5:  {   U1]8  z [  8',
  key2: '1_ tx7X d  <  nw  334J702) 7]o}` 0',
  key3: Buffer.from('Tm[K T2u', 'latin1'),
};

/** The 16-byte answer a draft-76 server must send: MD5 of the two key numbers and key3. */
export function hixie76Answer(key1: string, key2: string, key3: Buffer): Buffer {
  const number = (key: string): number => Number(key.replace(/[^0-9]/g, '')) / (key.match(/ /g)?.length ?? 1);
  const buf = Buffer.alloc(16);
  buf.writeUInt32BE(number(key1), 0);
  buf.writeUInt32BE(number(key2), 4);
  key3.copy(buf, 8);
  return createHash('md5').update(buf).digest();
}

export interface Hixie76Outcome {
  /** Everything received before the deadline or the end of the connection. */
  response: Buffer;
  /** The status line, '' when nothing came. */
  statusLine: string;
  /** True when the 16-byte answer followed the headers and the echo of one text frame came back. */
  echoed: boolean;
  ended: boolean;
}

/** How the client sends the 8 key bytes: in the same write as the headers, or 100 ms later. */
export type Key3Timing = 'with-headers' | 'later';

/** Runs a draft-76 handshake on host:port + path, then sends one text frame and waits for its echo. */
export function hixie76Exchange(port: number, path: string, text: string, deadlineMs = 3_000, timing: Key3Timing = 'with-headers'): Promise<Hixie76Outcome> {
  const { key1, key2, key3 } = hixie76Example;
  const answer = hixie76Answer(key1, key2, key3);
  const frame = Buffer.concat([Buffer.from([0x00]), Buffer.from(text, 'utf8'), Buffer.from([0xff])]);
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: '127.0.0.1', port });
    let response = Buffer.alloc(0);
    let sentFrame = false;
    let ended = false;
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const headEnd = response.indexOf('\r\n\r\n');
      const statusLine = response.subarray(0, Math.max(0, response.indexOf('\r\n'))).toString('latin1');
      const body = headEnd < 0 ? Buffer.alloc(0) : response.subarray(headEnd + 4);
      const echoed = body.subarray(0, 16).equals(answer) && body.subarray(16).equals(frame);
      resolve({ response, statusLine, echoed, ended });
    };
    const timer = setTimeout(finish, deadlineMs);
    socket.on('data', (chunk: Buffer) => {
      response = Buffer.concat([response, chunk]);
      const headEnd = response.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const body = response.subarray(headEnd + 4);
      if (!sentFrame && body.length >= 16) {
        sentFrame = true;
        socket.write(frame);
      }
      if (body.length >= 16 + frame.length) finish();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => { ended = true; finish(); });
    const head = Buffer.from(
      [
        `GET ${path} HTTP/1.1`,
        `Host: 127.0.0.1:${port}`,
        'Connection: Upgrade',
        'Upgrade: WebSocket',
        'Origin: http://127.0.0.1',
        `Sec-WebSocket-Key1: ${key1}`,
        `Sec-WebSocket-Key2: ${key2}`,
        '',
        '',
      ].join('\r\n'),
      'latin1',
    );
    if (timing === 'with-headers') {
      socket.write(Buffer.concat([head, key3]));
    } else {
      socket.write(head);
      setTimeout(() => socket.writable && socket.write(key3), 100);
    }
  });
}
