// Public API for handler authors and embedders.
export type {
  Connection,
  PendingConnection,
  ConnectionFilter,
  BroadcastOptions,
  Gateway,
  EndpointInfo,
  Handler,
  HandlerFactory,
  MessageData,
  ClientCertificate,
} from './plugins/types.js';
export type { ProtocolVersion } from './protocol/types.js';
export type { GatewayConfig, EndpointConfig, EndpointSettings } from './config/model.js';
export { WsgateError, type ErrorCode } from './errors.js';
export { startGateway, type StartOptions, type RunningGateway } from './server/gateway.js';
