// loadConfig: httpd.conf-style file → GatewayConfig + every diagnostic, in file order. Never throws
// for bad input.
import { resolve } from 'node:path';
import { DiagnosticSink, sortDiagnostics } from './diagnostics.js';
import type { Diagnostic, GatewayConfig } from './model.js';
import { ModelBuilder } from './resolve.js';
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

export function loadConfig(file: string, options: LoadOptions = {}): LoadResult {
  const path = resolve(file);
  const { text, diagnostic } = readMainFile(path);
  const result = loadConfigText(text ?? '', path, options);
  return diagnostic ? { config: result.config, diagnostics: [diagnostic] } : result;
}
