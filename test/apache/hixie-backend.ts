// A minimal draft-76 backend that answers the way a proxy needs: the 101 header block as soon as the
// request headers are in, the 16-byte answer once the 8 key bytes follow, then echoes text frames.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { hixie76Answer, hixie76Example } from './clients.js';

function header(head: string, name: string): string {
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line === undefined ? '' : line.slice(name.length + 1).trim();
}

export async function startHixieBackend(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffered = Buffer.alloc(0);
    let head: string | undefined;
    let answered = false;
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (head === undefined) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        head = buffered.subarray(0, end).toString('latin1');
        buffered = buffered.subarray(end + 4);
        const path = head.split(' ')[1] ?? '/';
        socket.write(
          'HTTP/1.1 101 WebSocket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Origin: ${header(head, 'Origin')}\r\nSec-WebSocket-Location: ws://${header(head, 'Host')}${path}\r\n\r\n`,
        );
      }
      if (!answered && buffered.length >= 8) {
        answered = true;
        socket.write(hixie76Answer(header(head, 'Sec-WebSocket-Key1'), header(head, 'Sec-WebSocket-Key2'), buffered.subarray(0, 8)));
        buffered = buffered.subarray(8);
      }
      // Echo every complete 0x00 … 0xFF text frame.
      let end: number;
      while (answered && buffered[0] === 0x00 && (end = buffered.indexOf(0xff)) > 0) {
        socket.write(buffered.subarray(0, end + 1));
        buffered = buffered.subarray(end + 1);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** Whether a draft-76 server sends its 101 header block before the 8 key bytes arrive. */
export function answersBeforeKey3(port: number, path: string, waitMs = 500): Promise<boolean> {
  const { key1, key2 } = hixie76Example;
  return new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let got = '';
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(got.startsWith('HTTP/1.1 101'));
    };
    const timer = setTimeout(done, waitMs);
    socket.on('data', (d: Buffer) => { got += d.toString('latin1'); });
    socket.on('error', () => undefined);
    socket.on('close', done);
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n` +
        `Origin: http://127.0.0.1\r\nSec-WebSocket-Key1: ${key1}\r\nSec-WebSocket-Key2: ${key2}\r\n\r\n`,
    );
  });
}
