// The C helper (build/libwsgate_native.so) seen through koffi. Node only calls into C here; no
// JS callback is ever registered, so plugin threads never wait on the JS thread.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';
import { WsgateError } from '../../errors.js';

/** An opaque C pointer as koffi hands it over. */
export type NativePointer = unknown;

export interface NativeLibrary {
  readonly path: string;
  /** The helper's wake pipe read end (set up once per process). */
  readonly wakeFd: number;
  /** Why plugins get request() == NULL; '' when libapr-1 is loaded. */
  readonly aprUnavailable: string;
  /** Why request() is the zeroed stand-in and ap_* are missing; '' when the httpd shim is loaded. */
  readonly httpdUnavailable: string;
  /** Whether the process defines this symbol (the helper, the shim, libapr-1, libc, …). */
  symbolDefined(name: string): number;
  liveConnections(): number | bigint;
  /** Fills `out` with [messages, payload bytes] of plugin sends queued in the helper, all connections. */
  queueDepth(out: BigInt64Array): void;
  pluginLoad(path: string, init: string, kind: number[], error: Buffer, size: number): NativePointer;
  pluginDestroy(plugin: NativePointer): void;
  connNew(
    plugin: NativePointer,
    token: number,
    headers: Buffer,
    headersSize: number,
    protocols: Buffer,
    protocolsSize: number,
    facts: Buffer,
    factsSize: number,
    queueCap: number,
  ): NativePointer;
  connConnect(conn: NativePointer): number;
  connResponse(conn: NativePointer, out: Buffer, cap: number): number | bigint;
  /** `frames` 1: text and binary replies may come framed for the wire (RecordType.Frames). */
  /** Records go to `out` from `at` up to `cap` (its length), as for every call that drains. */
  connMessage(conn: NativePointer, type: number, data: Buffer | null, size: number, out: Buffer, at: number, cap: number, frames: number): number | bigint;
  /** on_message for `count` messages in `base`, named by [type, offset, length] triples in `index`. */
  connMessages(conn: NativePointer, base: ArrayBufferLike | null, baseSize: number, index: Uint32Array, count: number, out: Buffer, at: number, cap: number, frames: number): number | bigint;
  drain(conn: NativePointer | null, out: Buffer, at: number, cap: number): number | bigint;
  /** Where every drain reports the arena it took (kept by the helper: pass an array that lives as long). */
  arenaReport(report: Uint32Array): void;
  /** The arena after the current one (kept by the helper until the next drain switches to it). */
  arenaNext(arena: Buffer, cap: number): void;
  connClosing(conn: NativePointer): void;
  connDisconnect(conn: NativePointer): number;
  connFree(conn: NativePointer): void;
}

const HELPER_NAME = 'libwsgate_native.so';
const HTTPD_SHIM_NAME = 'libwsgate_httpd.so';

/** build/ at the package root: three levels up from src/plugins/native and dist/plugins/native. */
export function helperPath(): string {
  const override = process.env.WSGATE_NATIVE_HELPER;
  if (override) return override;
  const root = dirname(dirname(dirname(dirname(fileURLToPath(import.meta.url)))));
  return join(root, 'build', HELPER_NAME);
}

/** The httpd shim, next to the helper (WSGATE_HTTPD_SHIM overrides; '' disables it). */
export function httpdShimPath(): string {
  return process.env.WSGATE_HTTPD_SHIM ?? join(dirname(helperPath()), HTTPD_SHIM_NAME);
}

function cString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.toString('utf8', 0, end < 0 ? buf.length : end);
}

let loaded: NativeLibrary | WsgateError | undefined;
/** koffi unloads a library whose handle is collected; this one must stay (decoded functions do not keep it). */
let helperHandle: unknown;

function bind(path: string): NativeLibrary {
  // The handle is kept for the life of the process, and the helper is linked with -z nodelete.
  const lib = koffi.load(path);
  helperHandle = lib;
  // wsg_setup: the wake pipe's read end (or -1); `message` receives why APR is unavailable.
  const setup = lib.func('int wsg_setup(const char *httpd_shim, uint8_t *message, size_t size)');
  const httpdStatus = lib.func('int wsg_httpd_status(uint8_t *message, size_t size)');
  const functions = {
    liveConnections: lib.func('int64_t wsg_live_connections(void)'),
    queueDepth: lib.func('void wsg_queue_depth(int64_t *out)'),
    pluginLoad: lib.func('void *wsg_plugin_load(const char *path, const char *init, _Out_ int *kind, uint8_t *error, size_t size)'),
    pluginDestroy: lib.func('void wsg_plugin_destroy(void *plugin)'),
    symbolDefined: lib.func('int wsg_symbol_defined(const char *name)'),
    connNew: lib.func(
      'void *wsg_conn_new(void *plugin, uint32_t token, const uint8_t *headers, size_t headers_size, const uint8_t *protocols, size_t protocols_size, const uint8_t *facts, size_t facts_size, size_t cap)',
    ),
    connConnect: lib.func('int wsg_conn_connect(void *conn)'),
    connResponse: lib.func('size_t wsg_conn_response(void *conn, uint8_t *out, size_t cap)'),
    connMessage: lib.func('int64_t wsg_conn_message(void *conn, int type, uint8_t *buf, size_t size, uint8_t *out, size_t at, size_t cap, int frames)'),
    connMessages: lib.func('int64_t wsg_conn_messages(void *conn, uint8_t *base, size_t base_size, const uint32_t *index, size_t count, uint8_t *out, size_t at, size_t cap, int frames)'),
    drain: lib.func('int64_t wsg_drain(void *conn, uint8_t *out, size_t at, size_t cap)'),
    arenaReport: lib.func('void wsg_arena_report(uint32_t *report)'),
    arenaNext: lib.func('void wsg_arena_next(uint8_t *arena, size_t cap)'),
    connClosing: lib.func('void wsg_conn_closing(void *conn)'),
    connDisconnect: lib.func('int wsg_conn_disconnect(void *conn)'),
    connFree: lib.func('void wsg_conn_free(void *conn)'),
  };
  // Before any plugin is opened: libapr-1 and the httpd shim must be global so plugins' apr_* and
  // ap_* symbols resolve.
  const message = Buffer.alloc(512);
  const wakeFd = setup(httpdShimPath(), message, message.length) as number;
  const aprUnavailable = cString(message);
  if (wakeFd < 0) throw new Error(aprUnavailable);
  message.fill(0);
  const httpdUnavailable = httpdStatus(message, message.length) === 1 ? '' : cString(message);
  return { path, wakeFd, aprUnavailable, httpdUnavailable, ...functions } as NativeLibrary;
}

/** The helper library, loaded once; a WsgateError (PLUGIN_LOAD) says why it is unavailable. */
export function nativeLibrary(): NativeLibrary | WsgateError {
  if (loaded) return loaded;
  const path = helperPath();
  if (!existsSync(path)) {
    loaded = new WsgateError(
      'PLUGIN_LOAD',
      `native plugin support is not built (${path} is missing): install a C compiler (cc) and run \`npm run build\``,
    );
    return loaded;
  }
  try {
    loaded = bind(path);
  } catch (err) {
    loaded = new WsgateError('PLUGIN_LOAD', `cannot load the native plugin helper ${path}: ${(err as Error).message}`, { cause: err });
  }
  return loaded;
}

/** A C int64/size_t result as a JS number (koffi may return a bigint). */
export function toNumber(value: number | bigint): number {
  return typeof value === 'bigint' ? Number(value) : value;
}
