// Diagnostics: what `check` prints and what loadConfig returns. Errors never throw.
import { formatLocation, type SourceLocation } from '../errors.js';
import type { Diagnostic } from './model.js';

export type ConfigErrorCode = 'CONFIG_SYNTAX' | 'CONFIG_DIRECTIVE' | 'CONFIG_CONTEXT' | 'CONFIG_VALUE' | 'CONFIG_INCLUDE' | 'CONFIG_HANDLER';

export function hasErrors(d: readonly Diagnostic[]): boolean {
  return d.some((x) => x.severity === 'error');
}

/** "FILE:LINE:COL: msg" or "FILE:LINE:COL: warning: msg"; line 0 means the whole file ("FILE: msg"). */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.loc.line > 0 ? formatLocation(d.loc) : d.loc.file;
  return `${where}: ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`;
}

/** Collects diagnostics while a config is read. */
export class DiagnosticSink {
  readonly list: Diagnostic[] = [];

  error(code: ConfigErrorCode, loc: SourceLocation, message: string): void {
    this.list.push({ severity: 'error', code, loc, message });
  }

  warning(code: ConfigErrorCode, loc: SourceLocation, message: string): void {
    this.list.push({ severity: 'warning', code, loc, message });
  }
}

/** File order: files in the order they were first read, then line, then column. */
export function sortDiagnostics(list: readonly Diagnostic[], fileOrder: readonly string[]): Diagnostic[] {
  const rank = new Map(fileOrder.map((f, i) => [f, i]));
  const fileRank = (d: Diagnostic): number => rank.get(d.loc.file) ?? fileOrder.length;
  return list
    .map((d, i) => ({ d, i }))
    .sort((a, b) => fileRank(a.d) - fileRank(b.d) || a.d.loc.line - b.d.loc.line || a.d.loc.column - b.d.loc.column || a.i - b.i)
    .map((x) => x.d);
}
