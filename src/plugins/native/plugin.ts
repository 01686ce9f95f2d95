// Loading a plugin library: dlopen (RTLD_NOW | RTLD_NODELETE, by the helper), the init function,
// and the original host's acceptance rule (version 0, size >= 40, on_message set).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { WsgateError } from '../../errors.js';
import type { HandlerSpec } from '../../config/model.js';
import { undefinedSymbols } from './elf-symbols.js';
import { nativeLibrary, type NativeLibrary, type NativePointer } from './ffi.js';

export type NativeSpec = Extract<HandlerSpec, { kind: 'native' }>;

/** Why the helper refused a plugin (wsg_plugin_load's error kinds). */
enum LoadFailure {
  None = 0,
  Open = 1,
  Symbol = 2,
  InitReturnedNull = 3,
  Version = 4,
  Size = 5,
  NoOnMessage = 6,
}

export interface LoadedPlugin {
  lib: NativeLibrary;
  handle: NativePointer;
}

/** Apache 2.2's logging functions: 2.4's headers turn these calls into ap_log_*_ (2.4 exports only those). */
const APACHE_22_ONLY = new Set(['ap_log_error', 'ap_log_rerror', 'ap_log_cerror', 'ap_log_perror']);

/** dlopen failed on an undefined symbol: every httpd (ap_*) function the plugin needs and the
 *  process lacks, with what to do about it; undefined when httpd is not the problem. */
function missingHttpdFunctions(lib: NativeLibrary, path: string): string | undefined {
  const missing = (undefinedSymbols(path) ?? []).filter((name) => name.startsWith('ap_') && lib.symbolDefined(name) === 0).sort();
  if (missing.length === 0) return undefined;
  const list = missing.join(', ');
  const old = missing.filter((name) => APACHE_22_ONLY.has(name));
  if (old.length > 0) {
    return `${path} was compiled against Apache 2.2's headers (it calls ${old.join(', ')}, which 2.4 names ${old.map((n) => `${n}_`).join(', ')}); wsgate provides Apache 2.4's request_rec and functions: rebuild it against 2.4's httpd.h`;
  }
  if (lib.httpdUnavailable !== '') {
    return `${path} calls Apache functions (${list}), and wsgate's httpd shim is not available: ${lib.httpdUnavailable} (install apache2-dev and run \`npm run build\`)`;
  }
  return `${path} calls Apache functions wsgate does not provide: ${list} (see handlers/c/README.md for the ones it does)`;
}

function failure(kind: LoadFailure, detail: string, spec: NativeSpec, path: string, lib: NativeLibrary): WsgateError {
  const where = { loc: spec.loc };
  switch (kind) {
    case LoadFailure.Open: {
      const httpd = detail.includes('undefined symbol') ? missingHttpdFunctions(lib, path) : undefined;
      return new WsgateError('PLUGIN_LOAD', httpd ?? `cannot load ${path}: ${detail}`, where);
    }
    case LoadFailure.Symbol:
      return new WsgateError('PLUGIN_LOAD', `${path} has no function ${spec.init} (${detail})`, where);
    case LoadFailure.InitReturnedNull:
      return new WsgateError('PLUGIN_ABI', `${spec.init}() in ${path} returned NULL`, where);
    case LoadFailure.Version:
      return new WsgateError('PLUGIN_ABI', `${path}: plugin version ${detail} is not supported (expected 0)`, where);
    case LoadFailure.Size:
      return new WsgateError('PLUGIN_ABI', `${path}: WebSocketPlugin size ${detail} is smaller than 40`, where);
    default:
      return new WsgateError('PLUGIN_ABI', `${path}: WebSocketPlugin has no on_message`, where);
  }
}

/** Loads and initialises the plugin, or explains (with the directive's location) why not. */
export function loadPlugin(spec: NativeSpec): LoadedPlugin | WsgateError {
  const lib = nativeLibrary();
  if (lib instanceof WsgateError) return new WsgateError(lib.code, lib.message, { loc: spec.loc });
  // Absolute, so dlopen never searches the library path for a bare name.
  const path = resolve(spec.path);
  if (!existsSync(path)) return new WsgateError('PLUGIN_LOAD', `plugin library ${path} does not exist`, { loc: spec.loc });
  const kind = [0];
  const error = Buffer.alloc(1024);
  const handle = lib.pluginLoad(path, spec.init, kind, error, error.length);
  const reason = (kind[0] ?? LoadFailure.Open) as LoadFailure;
  if (reason !== LoadFailure.None || handle === null) {
    const end = error.indexOf(0);
    return failure(reason, error.toString('utf8', 0, end < 0 ? error.length : end), spec, path, lib);
  }
  return { lib, handle };
}
