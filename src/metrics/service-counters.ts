// Counters of the process that runs the control channel (the supervisor, or the one process of
// WebSocketWorkers 0): plain numbers, read by the metrics and the status page.
export class ServiceCounters {
  /** `VERB RESULT` → count; RESULT is `ok` or the error code. */
  readonly commands = new Map<string, number>();
  workerRestarts = 0;
  /** Restarts per worker slot (the status page). */
  readonly restartsBySlot = new Map<number, number>();
  readonly reloads: Record<'ok' | 'refused', number> = { ok: 0, refused: 0 };

  command(verb: string, result: string): void {
    const key = `${verb} ${result}`;
    this.commands.set(key, (this.commands.get(key) ?? 0) + 1);
  }

  restarted(slot: number): void {
    this.workerRestarts++;
    this.restartsBySlot.set(slot, (this.restartsBySlot.get(slot) ?? 0) + 1);
  }
}
