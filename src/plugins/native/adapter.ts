// A native plugin as an ordinary Handler: on_connect before the 101, on_message per message,
// on_disconnect on a helper thread, destroy at shutdown.
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { WsgateError } from '../../errors.js';
import type { Connection, Handler, PendingConnection } from '../types.js';
import { toNumber, type NativeLibrary, type NativePointer } from './ffi.js';
import { NativeConnection } from './connection.js';
import type { Pump } from './pump.js';

export interface NativeHandlerOptions {
  lib: NativeLibrary;
  pump: Pump;
  plugin: NativePointer;
  /** Bytes a connection's not-yet-drained plugin sends may hold (WebSocketSendQueueLimit). */
  queueCap: number;
  log: Logger;
  /** The plugin as configured (`path init`), for log lines. */
  name: string;
}

/** Request headers as the helper expects them: name NUL value NUL ... (latin1, as node read them). */
function encodeHeaders(headers: IncomingHttpHeaders): Buffer {
  let text = '';
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    text += `${name}\0${Array.isArray(value) ? (value[0] ?? '') : value}\0`;
  }
  return Buffer.from(text, 'latin1');
}

function encodeProtocols(protocols: readonly string[]): Buffer {
  return Buffer.from(protocols.map((p) => `${p}\0`).join(''), 'latin1');
}

/** The chosen protocol and the headers the plugin set in on_connect. */
function readResponse(lib: NativeLibrary, pointer: NativePointer): { protocol: string; headers: Array<[string, string]> } {
  let out = Buffer.allocUnsafe(1024);
  const need = toNumber(lib.connResponse(pointer, out, out.length));
  if (need > out.length) {
    out = Buffer.allocUnsafe(need);
    lib.connResponse(pointer, out, out.length);
  }
  const parts = out.toString('latin1', 0, need - 1).split('\0');
  const headers: Array<[string, string]> = [];
  for (let i = 1; i + 1 < parts.length; i += 2) headers.push([parts[i]!, parts[i + 1]!]);
  return { protocol: parts[0] ?? '', headers };
}

/** The C side of a connection this handler accepted (a declined or failed one has none). */
function nativeOf(conn: Connection<NativeConnection>): NativeConnection | undefined {
  return conn.state instanceof NativeConnection ? conn.state : undefined;
}

export class NativeHandler implements Handler<NativeConnection> {
  private readonly disconnects = new Set<Promise<void>>();
  private destroyed = false;

  constructor(private readonly options: NativeHandlerOptions) {}

  onConnect(conn: PendingConnection<NativeConnection>): NativeConnection | false {
    const { lib, pump, plugin, queueCap, name } = this.options;
    if (this.destroyed) return false;
    const headers = encodeHeaders(conn.headers);
    const protocols = encodeProtocols(conn.protocols);
    const native = new NativeConnection(lib, pump, conn, name);
    const pointer = lib.connNew(plugin, native.token, headers, headers.length, protocols, protocols.length, queueCap);
    if (pointer === null) {
      native.free();
      throw new WsgateError('HANDLER_FAILED', 'out of memory creating the native connection', { status: 500 });
    }
    native.bind(pointer);
    if (lib.connConnect(pointer) === 0) {
      native.free(); // declined: headers it set are dropped, no on_disconnect (as the original)
      return false;
    }
    const response = readResponse(lib, pointer);
    for (const [name, value] of response.headers) conn.setHeader(name, value);
    // No protocol_set → no protocol (the original echoed the first offered one).
    if (response.protocol !== '') {
      try {
        conn.selectProtocol(response.protocol);
      } catch (err) {
        // The plugin accepted: it hears on_disconnect (and the C side is freed) though the client gets 500.
        void native.disconnect();
        throw err;
      }
    }
    // The gateway writes the 101 when onConnect's result settles; open after that.
    setImmediate(() => native.open());
    return native;
  }

  onMessage(conn: Connection<NativeConnection>, data: Buffer, isBinary: boolean): void {
    nativeOf(conn)?.message(data, isBinary);
  }

  onReadStart(conn: Connection<NativeConnection>): void {
    nativeOf(conn)?.readStart();
  }

  onReadEnd(conn: Connection<NativeConnection>): void {
    nativeOf(conn)?.readEnd();
  }

  onClosing(conn: Connection<NativeConnection>): void {
    nativeOf(conn)?.closing();
  }

  onDisconnect(conn: Connection<NativeConnection>): Promise<void> | undefined {
    const native = nativeOf(conn);
    if (native === undefined) return undefined;
    const done = native.disconnect();
    this.disconnects.add(done);
    void done.then(() => this.disconnects.delete(done));
    return done;
  }

  /** The gateway calls this after waiting (bounded) for every onDisconnect. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.disconnects.size > 0) {
      // Destroying under a running on_disconnect could free what it uses: leave the plugin be, and
      // stop waiting for it, so the process can exit (the library is never unmapped).
      this.options.log.warn({ running: this.disconnects.size }, 'native plugin on_disconnect still running: destroy skipped');
      this.options.pump.abandonDisconnects();
      return;
    }
    this.options.lib.pluginDestroy(this.options.plugin);
  }
}
