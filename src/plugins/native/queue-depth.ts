// Native plugins' queue depth for the metrics, without loading koffi or the helper: a process that
// hosts no native plugin reports nothing. The runtime (index.ts) lives on globalThis under this key.
export const NATIVE_RUNTIME_KEY = Symbol.for('wsgate.native.runtime');

export interface NativeQueueDepth {
  /** Plugin sends queued in the helper and not yet taken by the gateway. */
  messages: number;
  /** Their payload bytes. */
  bytes: number;
}

interface DepthSource {
  pump: { queueDepth(): NativeQueueDepth };
}

/** undefined when no native plugin was loaded in this process. */
export function nativeQueueDepth(): NativeQueueDepth | undefined {
  const runtime = (globalThis as { [NATIVE_RUNTIME_KEY]?: DepthSource })[NATIVE_RUNTIME_KEY];
  return runtime?.pump.queueDepth();
}
