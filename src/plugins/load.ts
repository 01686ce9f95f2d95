// Load an endpoint's handler, JS module or native plugin.
import type { HandlerSpec } from '../config/model.js';
import { loadJsHandler } from './js/load.js';
import { loadNativeHandler } from './native/index.js';
import type { EndpointInfo, Gateway, Handler } from './types.js';

export async function loadHandler(spec: HandlerSpec, serverRoot: string, gateway: Gateway, endpoint: EndpointInfo): Promise<Handler> {
  return spec.kind === 'js' ? loadJsHandler(spec, serverRoot, gateway, endpoint) : loadNativeHandler(spec, endpoint);
}
