// A native plugin as an ordinary Handler: on_connect before the 101, on_message per message,
// on_disconnect on a helper thread, destroy at shutdown.
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { WsgateError } from '../../errors.js';
import type { Connection, Handler, PendingConnection } from '../types.js';
import { toNumber, type NativeLibrary, type NativePointer } from './ffi.js';
import { apacheLevelOf } from './log-levels.js';
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

/** Request headers as the helper expects them: name NUL value NUL ... (latin1, as node read them).
 *  As Apache's headers_in: one entry per name, repeated lines joined with ", ", the first line's
 *  spelling and position (from the raw lines when the gateway passes them). */
function encodeHeaders(headers: IncomingHttpHeaders, raw: readonly string[] | undefined): Buffer {
  const merged = new Map<string, [string, string]>();
  const add = (name: string, value: string): void => {
    const key = name.toLowerCase();
    const seen = merged.get(key);
    if (seen) seen[1] += `, ${value}`;
    else merged.set(key, [name, value]);
  };
  if (raw !== undefined) {
    for (let i = 0; i + 1 < raw.length; i += 2) add(raw[i]!, raw[i + 1]!);
  } else {
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      for (const one of Array.isArray(value) ? value : [value]) add(name, one);
    }
  }
  let text = '';
  for (const [name, value] of merged.values()) text += `${name}\0${value}\0`;
  return Buffer.from(text, 'latin1');
}

function queryString(query: URLSearchParams): string {
  const text = query.toString();
  return text === '' ? '' : `?${text}`;
}

/** The request facts of httpd_shim.h (WSG_FACT_*), in order, NUL-terminated each. Without the
 *  gateway's HandshakeRequest (older callers, test doubles) they are rebuilt from the connection. */
function encodeFacts(conn: PendingConnection, logLevel: string): Buffer {
  const req = conn.request;
  const facts = [
    req?.method ?? 'GET',
    req?.url ?? `${conn.path}${queryString(conn.query)}`,
    req?.httpVersion ?? '1.1',
    req ? (req.host ?? '') : (conn.headers.host ?? ''),
    conn.remoteAddress,
    req?.peerAddress ?? conn.remoteAddress,
    String(conn.remotePort),
    req?.localAddress ?? '',
    String(req?.localPort ?? 0),
    req?.serverName ?? '',
    req?.scheme === 'https' ? 'on' : '',
    String(conn.connectedAt.getTime() * 1000),
    String(apacheLevelOf(logLevel)),
  ];
  return Buffer.from(facts.map((f) => `${f}\0`).join(''), 'latin1');
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
    const headers = encodeHeaders(conn.headers, conn.request?.rawHeaders);
    const protocols = encodeProtocols(conn.protocols);
    // The endpoint's level: conn.log would create a child logger for every connection.
    const facts = encodeFacts(conn, this.options.log.level);
    const native = new NativeConnection(lib, pump, conn, name);
    const pointer = lib.connNew(plugin, native.token, headers, headers.length, protocols, protocols.length, facts, facts.length, queueCap);
    if (pointer === null) {
      native.free();
      throw new WsgateError('HANDLER_FAILED', 'out of memory creating the native connection', { status: 500 });
    }
    native.bind(pointer);
    const accepted = lib.connConnect(pointer) !== 0;
    // What on_connect logged (ap_log_rerror…) is written now, before the 101 or the 403.
    pump.drainAll(true);
    if (!accepted) {
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

  /** The plugin gets each message for the length of its on_message call (the ABI's rule); what the
   *  pump still holds of them (replies that quote them) waits for a later turn. */
  releasedMessages(conn: Connection<NativeConnection>): boolean {
    return nativeOf(conn)?.releasedInput() ?? true;
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
