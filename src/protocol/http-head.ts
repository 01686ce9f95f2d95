// Building HTTP/1.1 response heads. Names and values are checked here, because some come from
// handlers (setHeader, the chosen subprotocol): a CR or LF would split the response.
import { WsgateError } from '../errors.js';

export type HeaderList = ReadonlyArray<readonly [string, string]>;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Visible ASCII, space, tab and obs-text; no CR, LF, NUL or other controls.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? (status < 500 ? 'Client Error' : 'Server Error');
}

function invalidHeader(what: string): WsgateError {
  return new WsgateError('HANDLER_FAILED', `invalid response header ${what}`, { status: 500 });
}

/** One `Name: value\r\n` line. Throws WsgateError HANDLER_FAILED (status 500) for a name that is
 *  not an HTTP token or a value with control characters. */
export function headerLine(name: string, value: string): string {
  if (!TOKEN.test(name)) throw invalidHeader(`name ${JSON.stringify(name)}`);
  if (!FIELD_VALUE.test(value)) throw invalidHeader(`value for ${name}`);
  return `${name}: ${value}\r\n`;
}

/** Status line + header lines + blank line, as latin1 bytes (header bytes go out unchanged). */
export function responseHead(statusLine: string, headers: HeaderList): Buffer {
  let head = `${statusLine}\r\n`;
  for (const [name, value] of headers) head += headerLine(name, value);
  return Buffer.from(`${head}\r\n`, 'latin1');
}

/** A complete non-101 answer that ends the connection: Connection: close, Content-Length, a
 *  plain-text body (default: the reason phrase). */
export function errorResponse(status: number, headers: HeaderList = [], body?: string): Buffer {
  const content = Buffer.from(body ?? `${reasonPhrase(status)}\n`, 'utf8');
  const head = responseHead(`HTTP/1.1 ${status} ${reasonPhrase(status)}`, [
    ['Connection', 'close'],
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Length', String(content.length)],
    ...headers,
  ]);
  return Buffer.concat([head, content]);
}
