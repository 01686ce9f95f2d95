// An endpoint at run time: its config, its loaded handler and its live-connection count.
import type { EndpointConfig } from '../config/model.js';
import type { EndpointInfo, Handler } from '../plugins/types.js';

export interface EndpointRuntime {
  readonly config: EndpointConfig;
  readonly info: EndpointInfo;
  readonly handler: Handler;
  /** Connections accepted (from the start of onConnect) and not yet disconnected; WebSocketMaxConnections caps it. */
  active: number;
}
