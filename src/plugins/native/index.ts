// Placeholder until the native plugin host lands; replaced by its owner.
import { WsgateError } from '../../errors.js';
import type { HandlerSpec } from '../../config/model.js';
import type { EndpointInfo, Handler } from '../types.js';

type NativeSpec = Extract<HandlerSpec, { kind: 'native' }>;

export async function loadNativeHandler(spec: NativeSpec, _endpoint: EndpointInfo): Promise<Handler> {
  throw new WsgateError('PLUGIN_LOAD', 'native plugins are not available yet', { loc: spec.loc });
}

export async function validateNativePlugin(spec: NativeSpec): Promise<WsgateError | undefined> {
  return new WsgateError('PLUGIN_LOAD', 'native plugins are not available yet', { loc: spec.loc });
}
