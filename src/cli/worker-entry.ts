// The script `wsgate serve` forks for each worker process (see serve-worker.ts).
import { runWorker } from './serve-worker.js';

await runWorker();
