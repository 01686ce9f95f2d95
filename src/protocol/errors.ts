// Shorthands for the errors a decoder reports: each carries the close code to answer with.
import { WsgateError } from '../errors.js';
import { CloseCode } from './close-codes.js';

export function protocolError(message: string): WsgateError {
  return new WsgateError('PROTOCOL_ERROR', message, { closeCode: CloseCode.ProtocolError });
}

export function utf8Error(message: string): WsgateError {
  return new WsgateError('INVALID_UTF8', message, { closeCode: CloseCode.InvalidPayload });
}

export function tooBigError(limit: number, closeCode: number, what = 'message'): WsgateError {
  return new WsgateError('MESSAGE_TOO_BIG', `${what} exceeds MaxMessageSize (${limit} bytes)`, { closeCode });
}

/** A handshake failure answered with an HTTP status (400 unless said otherwise). */
export function badRequest(message: string, status = 400): WsgateError {
  return new WsgateError('HANDSHAKE_BAD_REQUEST', message, { status });
}

/** The caller (server, handler) asked the encoder for something no valid frame can carry. */
export function usageError(message: string): WsgateError {
  return new WsgateError('USAGE', message);
}
