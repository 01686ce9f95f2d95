// What the control-channel benches (control.bench.mjs, cluster.bench.mjs) share: a line-protocol
// conversation on a control socket, the benchmark gateway's config, and the process that holds the
// WebSocket clients (control.bench.mjs run with --clients), driven over IPC.
import { fork } from 'node:child_process';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** control.bench.mjs holds the client side (its --clients mode). */
const clientScript = join(root, 'bench', 'control.bench.mjs');

/** A conversation on the control socket at `path`: request(text, count) resolves with the next `count` answer lines. */
export function openConversation(path) {
  return new Promise((resolveOpen, reject) => {
    const socket = connect(path);
    let buffered = '';
    let pending;
    socket.setEncoding('utf8');
    socket.on('data', (text) => {
      buffered += text;
      if (!pending) return;
      const parts = buffered.split('\n');
      if (parts.length - 1 >= pending.count) {
        const got = parts.slice(0, pending.count);
        buffered = parts.slice(pending.count).join('\n');
        const done = pending.resolve;
        pending = undefined;
        done(got);
      }
    });
    socket.once('error', reject);
    socket.once('connect', () =>
      resolveOpen({
        request(text, count) {
          return new Promise((r) => {
            pending = { count, resolve: r };
            socket.write(text);
          });
        },
        close: () => socket.end(),
      }),
    );
  });
}

/** The benchmark's gateway, written as a user would write it (Listen comes from startGateway's
 *  `listen` option: port 0 picks a free port). */
export async function gatewayConfig(socketPath) {
  const { loadConfigText } = await import(join(root, 'dist/config/load.js'));
  const text = [
    `ServerRoot ${root}`,
    `WebSocketControlSocket ${socketPath} 0600`,
    '<Location /bench>',
    '  SetHandler websocket-handler',
    '  WebSocketHandler handlers/board/board.mjs',
    '  WebSocketHandshakeTimeout 30',
    '</Location>',
  ].join('\n');
  const { config, diagnostics } = loadConfigText(`${text}\n`, join(root, 'bench.conf'));
  if (diagnostics.length > 0) throw new Error(`bench config: ${JSON.stringify(diagnostics)}`);
  return config;
}

/** The client process, driven over IPC: each call gets exactly one answer, within `timeoutMs`. */
export function startClientProcess(timeoutMs) {
  const child = fork(clientScript, ['--clients'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = [];
  child.on('message', (m) => waiting.shift()?.(m));
  child.on('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`bench: client process exited with ${code}`);
  });
  return {
    call(message) {
      return new Promise((resolveCall, reject) => {
        const timer = setTimeout(() => reject(new Error(`client process: no answer to ${message.cmd} within ${timeoutMs} ms`)), timeoutMs);
        waiting.push((m) => {
          clearTimeout(timer);
          if (m.error) reject(new Error(m.error));
          else resolveCall(m);
        });
        child.send(message);
      });
    },
    kill: () => child.kill(),
  };
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
