// HTTP control API request bodies: bounded reading, and the body → message rules:
//   Content-Type application/json  {"text": "…"} → text frame, {"base64": "…"} → binary frame
//   Content-Type text/*            the body (UTF-8 unless another charset is named) → text frame
//   anything else or none          the body's raw bytes → binary frame
import type { IncomingMessage } from 'node:http';
import { WsgateError } from '../errors.js';
import { controlLimits } from './commands.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Thrown when the client went away before its body was complete (nothing to answer). */
export class BodyAborted extends Error {}

export function readBody(req: IncomingMessage, limit = controlLimits().maxBodyBytes): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (error: Error | undefined): void => {
      if (done) return;
      done = true;
      if (error) {
        chunks = []; // an aborted or refused body is not kept while the socket lingers
        reject(error);
      } else resolve(Buffer.concat(chunks, size));
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        finish(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => finish(undefined));
    // A client that resets or closes mid-body ('error' ECONNRESET / 'aborted', or only 'close').
    req.once('error', (err) => finish(new BodyAborted(err.message)));
    req.once('close', () => finish(new BodyAborted('the client closed the connection before the body was complete')));
  });
}

export function messageFromBody(contentType: string | undefined, body: Buffer): string | Buffer {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  let data: string | Buffer;
  if (media === 'application/json') data = messageFromJson(parseJsonObject(body));
  else if (media.startsWith('text/')) data = decodeText(body, /;\s*charset="?([^";\s]+)/i.exec(contentType ?? '')?.[1]);
  else data = body;
  return data; // its size is checked against WebSocketControlMaxPayload by the server
}

/** Body of POST …/close: empty, or JSON {"code": 4000, "reason": "…"}. */
export function closeFromBody(body: Buffer): { code: number | undefined; reason: string | undefined } {
  if (body.length === 0) return { code: undefined, reason: undefined };
  const json = parseJsonObject(body);
  const { code, reason } = json;
  if (code !== undefined && typeof code !== 'number') throw badRequest('"code" must be a number');
  if (reason !== undefined && typeof reason !== 'string') throw badRequest('"reason" must be a string');
  return { code, reason };
}

export function parseJsonObject(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decodeUtf8(body));
  } catch (err) {
    throw badRequest(`bad JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest('the JSON body must be an object');
  return value as Record<string, unknown>;
}

function messageFromJson(json: Record<string, unknown>): string | Buffer {
  const { text, base64 } = json;
  if ((text === undefined) === (base64 === undefined)) throw badRequest('the JSON body needs exactly one of "text" or "base64"');
  if (text !== undefined) {
    if (typeof text !== 'string') throw badRequest('"text" must be a string');
    return text;
  }
  if (typeof base64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) {
    throw badRequest('"base64" must be a base64 string');
  }
  return Buffer.from(base64, 'base64');
}

function decodeUtf8(body: Buffer): string {
  return decodeText(body, undefined);
}

/** WebSocket text is UTF-8: a body in another charset is converted, bytes invalid in it are refused. */
function decodeText(body: Buffer, charset: string | undefined): string {
  let decoder = utf8;
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    try {
      decoder = new TextDecoder(charset, { fatal: true });
    } catch {
      throw new WsgateError('CONTROL_COMMAND', `unsupported charset '${charset.slice(0, 40)}'`, { status: 415 });
    }
  }
  try {
    return decoder.decode(body);
  } catch {
    throw new WsgateError('INVALID_UTF8', `the body is not valid ${charset ?? 'UTF-8'}`, { status: 400 });
  }
}

function badRequest(message: string): WsgateError {
  return new WsgateError('CONTROL_COMMAND', message, { status: 400 });
}

export function tooLarge(limit: number): WsgateError {
  return new WsgateError('MESSAGE_TOO_BIG', `the body is larger than ${limit} bytes`, { status: 413 });
}
