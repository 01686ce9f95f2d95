// A `ws` client for the multi-process tests: its messages as text, its close code, and a refused
// handshake as an error carrying the HTTP status. Every client opened is kept in `opened` so the
// test file can terminate them all afterwards.
import WebSocket from 'ws';

export interface Client {
  ws: WebSocket;
  messages: string[];
  closed: Promise<number>;
}

export function openClient(url: string, opened: WebSocket[]): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    opened.push(ws);
    const messages: string[] = [];
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.on('message', (data) => messages.push(data.toString()));
    ws.once('open', () => resolve({ ws, messages, closed }));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}
