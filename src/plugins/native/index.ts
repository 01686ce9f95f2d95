// Native mod_websocket plugins (WebSocketHandler lib.so init) hosted through koffi and the C helper.
import type { HandlerSpec } from '../../config/model.js';
import { WsgateError } from '../../errors.js';
import type { EndpointInfo, Handler } from '../types.js';
import { NativeHandler } from './adapter.js';
import { nativeLibrary, type NativeLibrary } from './ffi.js';
import { pinoLevelOf } from './log-levels.js';
import { loadPlugin } from './plugin.js';
import { Pump } from './pump.js';
import { NATIVE_RUNTIME_KEY } from './queue-depth.js';

type NativeSpec = Extract<HandlerSpec, { kind: 'native' }>;

interface Runtime {
  pump: Pump;
  aprReported: boolean;
}

// One per process, even if this module is evaluated twice (the helper's pipe and lists are global).
const RUNTIME_KEY = NATIVE_RUNTIME_KEY;
type RuntimeHolder = { [RUNTIME_KEY]?: Runtime };

function runtime(lib: NativeLibrary): Runtime {
  const holder = globalThis as RuntimeHolder;
  return (holder[RUNTIME_KEY] ??= { pump: new Pump(lib, lib.wakeFd), aprReported: false });
}

export async function loadNativeHandler(spec: NativeSpec, endpoint: EndpointInfo): Promise<Handler> {
  const lib = nativeLibrary();
  if (lib instanceof WsgateError) throw new WsgateError(lib.code, lib.message, { loc: spec.loc });
  const rt = runtime(lib);
  const loaded = loadPlugin(spec);
  if (loaded instanceof WsgateError) throw loaded;
  if (!rt.aprReported) {
    rt.aprReported = true;
    if (lib.aprUnavailable !== '') endpoint.log.warn(`native plugins get request() == NULL: ${lib.aprUnavailable} (install libapr1)`);
    else if (lib.httpdUnavailable !== '') {
      endpoint.log.warn(
        `native plugins get a zeroed stand-in request_rec (only r->pool is set) and no ap_* functions: ${lib.httpdUnavailable} (install apache2-dev and run \`npm run build\`)`,
      );
    }
    // ap_log_error(…, NULL, …) and lines from a plugin thread after its connection ended.
    rt.pump.orphanLog ??= (line) => endpoint.log[pinoLevelOf(line.level)]({ nativePlugin: true, source: line.source || undefined }, line.text);
  }
  return new NativeHandler({
    lib,
    pump: rt.pump,
    plugin: loaded.handle,
    queueCap: endpoint.settings.sendQueueLimit,
    log: endpoint.log,
    name: `${spec.path} ${spec.init}`,
  });
}

/** What `wsgate check` reports for a WebSocketHandler line: like `apachectl -t`, which loads the
 *  library and runs its init, this loads, initialises, checks the ABI and calls destroy. */
export async function validateNativePlugin(spec: NativeSpec): Promise<WsgateError | undefined> {
  const loaded = loadPlugin(spec);
  if (loaded instanceof WsgateError) return loaded;
  loaded.lib.pluginDestroy(loaded.handle);
  return undefined;
}
