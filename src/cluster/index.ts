// The supervisor/worker process machinery (issue 11): see pool.ts (supervisor side) and
// worker-runtime.ts (worker side).
export { startPool, WorkerPool } from './pool.js';
export type { PoolOptions, WorkerHandle, WorkerExit, WorkerInfo, ReloadOptions, StopOptions } from './pool.js';
export type { GenerationSpec, WorkerState, WorkerIdentity } from './worker-process.js';
export { startWorkerRuntime, trackHttpConnections, workerIdentity, workerLogBindings, tagWorkerLogger } from './worker-runtime.js';
export type { WorkerRuntime, WorkerRuntimeOptions } from './worker-runtime.js';
export { RestartBackoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { listenKey } from './listeners.js';
export { workerExecArgv } from './worker-heap.js';
export type { ListenerRef } from './messages.js';
