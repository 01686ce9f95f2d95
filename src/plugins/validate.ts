// `wsgate check` and `serve`: can every WebSocketHandler be loaded? JS modules are imported and
// their export's shape checked (factories are not called); native plugins are checked by their host.
import { isWsgateError, WsgateError } from '../errors.js';
import type { Diagnostic, GatewayConfig, HandlerSpec } from '../config/model.js';
import { importJsExport } from './js/load.js';
import { validateNativePlugin } from './native/index.js';

async function validateOne(spec: HandlerSpec, serverRoot: string): Promise<WsgateError | undefined> {
  try {
    if (spec.kind === 'native') return await validateNativePlugin(spec);
    await importJsExport(spec, serverRoot);
    return undefined;
  } catch (err) {
    return isWsgateError(err) ? err : new WsgateError('PLUGIN_LOAD', String(err), { loc: spec.loc });
  }
}

export async function validateHandlers(config: GatewayConfig): Promise<Diagnostic[]> {
  const seen = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  for (const { handler } of config.endpoints) {
    const key = handler.kind === 'js' ? `js:${handler.path}:${handler.exportName ?? ''}` : `native:${handler.path}:${handler.init}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const error = await validateOne(handler, config.serverRoot);
    if (error) diagnostics.push({ severity: 'error', message: error.message, loc: error.loc ?? handler.loc, code: error.code });
  }
  return diagnostics;
}
