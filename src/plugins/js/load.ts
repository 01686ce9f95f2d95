// `WebSocketHandler module.mjs [EXPORT]`: import the module and find its handler.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WsgateError } from '../../errors.js';
import type { HandlerSpec } from '../../config/model.js';
import type { EndpointInfo, Gateway, Handler, HandlerFactory } from '../types.js';

export type JsSpec = Extract<HandlerSpec, { kind: 'js' }>;

const HANDLER_METHODS = ['onConnect', 'onMessage', 'onDisconnect', 'destroy'] as const;

export function resolveHandlerPath(path: string, serverRoot: string): string {
  return isAbsolute(path) ? path : resolve(serverRoot, path);
}

/** The handler object or factory the module exports; WsgateError at the directive otherwise. */
export async function importJsExport(spec: JsSpec, serverRoot: string): Promise<Handler | HandlerFactory> {
  const file = resolveHandlerPath(spec.path, serverRoot);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new WsgateError('PLUGIN_LOAD', `cannot load handler module ${file}: ${(err as Error).message}`, { loc: spec.loc, cause: err });
  }
  const name = spec.exportName ?? 'default';
  const value = module[name];
  if (typeof value === 'function') return value as HandlerFactory;
  if (typeof value === 'object' && value !== null) return checkHandler(value, spec, `export '${name}' of ${file}`);
  const what = value === undefined ? 'has no such export' : `is a ${typeof value}`;
  throw new WsgateError(
    'CONFIG_HANDLER',
    `export '${name}' of ${file} ${what}: expected a handler object or a function (gateway, endpoint) => handler`,
    { loc: spec.loc },
  );
}

function checkHandler(value: object, spec: JsSpec, what: string): Handler {
  for (const method of HANDLER_METHODS) {
    const member = (value as Record<string, unknown>)[method];
    if (member !== undefined && typeof member !== 'function') {
      throw new WsgateError('CONFIG_HANDLER', `${what}: ${method} must be a function`, { loc: spec.loc });
    }
  }
  return value as Handler;
}

/** The endpoint's handler: the exported object, or what the exported factory returns for this endpoint. */
export async function loadJsHandler(spec: JsSpec, serverRoot: string, gateway: Gateway, endpoint: EndpointInfo): Promise<Handler> {
  const exported = await importJsExport(spec, serverRoot);
  if (typeof exported !== 'function') return exported;
  let made: unknown;
  try {
    made = await exported(gateway, endpoint);
  } catch (err) {
    throw new WsgateError('CONFIG_HANDLER', `handler factory of ${spec.path} failed: ${(err as Error).message}`, { loc: spec.loc, cause: err });
  }
  if (typeof made !== 'object' || made === null) {
    throw new WsgateError('CONFIG_HANDLER', `handler factory of ${spec.path} returned ${made === null ? 'null' : typeof made}, not a handler object`, {
      loc: spec.loc,
    });
  }
  return checkHandler(made, spec, `the handler returned by ${spec.path}`);
}
