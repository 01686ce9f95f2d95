// Apache's log levels (APLOG_EMERG 0 … APLOG_DEBUG 7, APLOG_TRACE1–8 8–15) and pino's, mapped the
// way `LogLevel` maps them for the config: a plugin's ap_log_* line lands on the matching level,
// and the level a plugin's APLOG_*IS_LEVEL checks see is what the connection's logger lets through.
import type { Level, LevelWithSilent } from 'pino';

export function pinoLevelOf(apacheLevel: number): Level {
  if (apacheLevel <= 2) return 'fatal';
  if (apacheLevel === 3) return 'error';
  if (apacheLevel === 4) return 'warn';
  if (apacheLevel <= 6) return 'info';
  return apacheLevel === 7 ? 'debug' : 'trace';
}

const APACHE_LEVELS: Record<string, number> = { fatal: 2, error: 3, warn: 4, info: 6, debug: 7, trace: 15, silent: 0 };

export function apacheLevelOf(level: LevelWithSilent | string): number {
  return APACHE_LEVELS[level] ?? 6;
}
