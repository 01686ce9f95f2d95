// What `serve` tells its worker processes: which config to read, as the supervisor read it.
export const WORKER_CONFIG_ENV = 'WSGATE_WORKER_CONFIG';

export interface WorkerConfigRef {
  /** Absolute path of the main config file. */
  file: string;
  defines: string[];
}

export function encodeWorkerConfig(ref: WorkerConfigRef): string {
  return JSON.stringify(ref);
}

export function decodeWorkerConfig(text: string | undefined): WorkerConfigRef | undefined {
  if (text === undefined) return undefined;
  const value = JSON.parse(text) as Partial<WorkerConfigRef>;
  if (typeof value.file !== 'string' || !Array.isArray(value.defines)) return undefined;
  return { file: value.file, defines: value.defines.map(String) };
}

/** A worker whose handlers do not load exits with this code (sysexits' EX_CONFIG). */
export const WORKER_CONFIG_EXIT = 78;

/** What a worker reports about itself: logged by the supervisor when the worker dies. */
export interface WorkerContext {
  /** `LOCATION HANDLER [INIT]` per endpoint. */
  handlers?: string[];
  /** Set when the worker could not start: every problem as FILE:LINE:COL: message. */
  configErrors?: string[];
}
