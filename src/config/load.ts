// loadConfig: httpd.conf-style file → GatewayConfig + every diagnostic, in file order. Never throws
// for bad input.
import { resolve } from 'node:path';
import { DiagnosticSink, hasErrors, sortDiagnostics } from './diagnostics.js';
import type { Diagnostic, GatewayConfig } from './model.js';
import { ModelBuilder } from './resolve.js';
import { startupWarnings } from './startup-warnings.js';
import { buildTree, readMainFile, type LoadOptions } from './tree.js';

export type { LoadOptions };

export interface LoadResult {
  config: GatewayConfig;
  diagnostics: Diagnostic[];
}

export function loadConfigText(text: string, file: string, options: LoadOptions = {}): LoadResult {
  const tree = buildTree(text, file, options);
  const sink = new DiagnosticSink();
  const config = new ModelBuilder(tree, resolve(file), sink, options.sysroot).build();
  return { config, diagnostics: sortDiagnostics([...tree.diagnostics, ...sink.list], tree.files) };
}

/** A whole configuration, as the commands read it. Unlike loadConfigText (also used for snippets), it
 *  also warns about what `serve` would meet: no endpoint at all, a control socket directory this
 *  user cannot create (startup-warnings.ts); only for a config without errors, after the others. */
export function loadConfig(file: string, options: LoadOptions = {}): LoadResult {
  const path = resolve(file);
  const { text, diagnostic } = readMainFile(path);
  const result = loadConfigText(text ?? '', path, options);
  if (diagnostic) return { config: result.config, diagnostics: [diagnostic] };
  if (hasErrors(result.diagnostics)) return result;
  return { config: result.config, diagnostics: [...result.diagnostics, ...startupWarnings(result.config)] };
}
