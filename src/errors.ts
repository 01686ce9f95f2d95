// One error type for the whole gateway. `code` is stable (tests, logs and the control
// channel match on it); `closeCode` is the WebSocket close code a protocol error ends with;
// `status` is the HTTP status a handshake failure is answered with.

export type ErrorCode =
  // configuration
  | 'CONFIG_SYNTAX'
  | 'CONFIG_DIRECTIVE'
  | 'CONFIG_CONTEXT'
  | 'CONFIG_VALUE'
  | 'CONFIG_INCLUDE'
  | 'CONFIG_HANDLER'
  // handshake (HTTP)
  | 'HANDSHAKE_BAD_REQUEST'
  | 'HANDSHAKE_VERSION'
  | 'HANDSHAKE_HEADERS_TOO_LARGE'
  | 'HANDSHAKE_TIMEOUT'
  | 'HANDSHAKE_NOT_FOUND'
  | 'HANDSHAKE_FORBIDDEN'
  | 'HANDSHAKE_ORIGIN'
  | 'HANDSHAKE_UNAVAILABLE'
  | 'HANDSHAKE_CONFLICT'
  // framing (WebSocket)
  | 'PROTOCOL_ERROR'
  | 'INVALID_UTF8'
  | 'MESSAGE_TOO_BIG'
  | 'POLICY'
  | 'SEND_QUEUE_FULL'
  | 'CLOSE_TIMEOUT'
  // plugins and handlers
  | 'PLUGIN_LOAD'
  | 'PLUGIN_ABI'
  | 'HANDLER_FAILED'
  // control channel
  | 'CONTROL_COMMAND'
  | 'CONTROL_AUTH'
  | 'CONTROL_NOT_FOUND'
  /** A worker that holds (or may hold) the target did not answer in time. */
  | 'CONTROL_UNREACHABLE'
  | 'CONTROL_SOCKET'
  // usage / runtime
  | 'USAGE'
  | 'IO';

export interface SourceLocation {
  file: string;
  line: number; // 1-based
  column: number; // 1-based
}

export interface WsgateErrorOptions {
  closeCode?: number;
  status?: number;
  loc?: SourceLocation;
  cause?: unknown;
}

export class WsgateError extends Error {
  readonly code: ErrorCode;
  readonly closeCode: number | undefined;
  readonly status: number | undefined;
  readonly loc: SourceLocation | undefined;

  constructor(code: ErrorCode, message: string, options: WsgateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WsgateError';
    this.code = code;
    this.closeCode = options.closeCode;
    this.status = options.status;
    this.loc = options.loc;
  }

  /** `file:line:col: message` when the error points into a file, else the message. */
  format(): string {
    return this.loc ? `${formatLocation(this.loc)}: ${this.message}` : this.message;
  }
}

export function formatLocation(loc: SourceLocation): string {
  return `${loc.file}:${loc.line}:${loc.column}`;
}

export function isWsgateError(value: unknown): value is WsgateError {
  return value instanceof WsgateError;
}
