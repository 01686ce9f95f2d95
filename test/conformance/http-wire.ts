// Plain-bytes HTTP/1.1 helpers for handshakes: we write requests by hand so malformed ones are possible.
import net from 'node:net';

export interface HttpHead {
  status: number;
  statusText: string;
  /** Header names lower-cased; repeated headers keep every value. */
  headers: Map<string, string[]>;
}

export function header(head: HttpHead, name: string): string | undefined {
  return head.headers.get(name.toLowerCase())?.join(', ');
}

/** Index just past the blank line ending an HTTP head, -1 while incomplete. */
export function headEnd(bytes: Buffer): number {
  const at = bytes.indexOf('\r\n\r\n');
  return at < 0 ? -1 : at + 4;
}

export function parseHead(text: string): HttpHead {
  const lines = text.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(lines[0] ?? '');
  if (!match) throw new Error(`not an HTTP status line: ${JSON.stringify(lines[0])}`);
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`bad header line: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const values = headers.get(name) ?? [];
    values.push(line.slice(colon + 1).trim());
    headers.set(name, values);
  }
  return { status: Number(match[1]), statusText: match[2] ?? '', headers };
}

/** Builds a request: request line, headers in the given order, blank line, optional body. */
export function requestBytes(path: string, headers: [string, string][], body?: Buffer, method = 'GET'): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, ...headers.map(([k, v]) => `${k}: ${v}`), '', ''];
  const head = Buffer.from(lines.join('\r\n'), 'latin1');
  return body ? Buffer.concat([head, body]) : head;
}

export interface RawExchange {
  /** Every byte the server sent before closing or the time limit. */
  bytes: Buffer;
  /** Parsed head, undefined if the server sent no complete head. */
  head: HttpHead | undefined;
  body: Buffer;
  /** True when the server closed (or reset) TCP within the time limit. */
  tcpClosed: boolean;
  /** Milliseconds from connect until TCP closed (or the limit). */
  elapsedMs: number;
}

/** Sends `request` (all of it, or nothing more than given) and collects the answer until the server
 *  closes TCP, or `untilHeadMs` after a complete head arrived, or `limitMs` overall. */
export function exchange(port: number, request: Buffer, limitMs: number, untilHeadMs = 100): Promise<RawExchange> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let settled = false;
    let headTimer: NodeJS.Timeout | undefined;
    const finish = (tcpClosed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(limit);
      clearTimeout(headTimer);
      socket.destroy();
      const bytes = Buffer.concat(chunks);
      const end = headEnd(bytes);
      const head = end < 0 ? undefined : parseHead(bytes.subarray(0, end - 4).toString('latin1'));
      resolve({ bytes, head, body: end < 0 ? Buffer.alloc(0) : bytes.subarray(end), tcpClosed, elapsedMs: Date.now() - started });
    };
    const limit = setTimeout(() => finish(false), limitMs);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (headTimer === undefined && headEnd(Buffer.concat(chunks)) >= 0) headTimer = setTimeout(() => finish(false), untilHeadMs);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('end', () => finish(true));
  });
}

/** Writes a handshake request and reads the response head; bytes after the head are returned. */
export function handshake(port: number, request: Buffer, timeoutMs = 3000): Promise<{ socket: net.Socket; head: HttpHead; leftover: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error('no handshake answer in time')), timeoutMs);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const end = headEnd(received);
      if (end < 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', fail);
      socket.pause();
      try {
        resolve({ socket, head: parseHead(received.subarray(0, end - 4).toString('latin1')), leftover: received.subarray(end) });
      } catch (error) {
        fail(error as Error);
      }
    };
    const onClose = (): void => fail(new Error(`connection closed during the handshake; got ${JSON.stringify(received.toString('latin1'))}`));
    socket.on('connect', () => socket.write(request));
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', fail);
  });
}
