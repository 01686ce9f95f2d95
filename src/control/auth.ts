// Bearer-token check for the HTTP control API and the loopback rule for running without one.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isLoopbackHost } from '../config/loopback.js';

/** Constant-time: both sides are hashed first so neither the content nor the length of the
 *  token leaks through timing. */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer +([^\s]+) *$/i.exec(authorization ?? '');
  const given = match?.[1] ?? '';
  const ok = timingSafeEqual(digest(given), digest(token));
  return ok && match !== null;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}


/** Without a token the API trusts local processes only. Browsers are local too, so a request
 *  with an Origin header (any web page's fetch) or for a non-loopback Host name (DNS rebinding)
 *  is refused: curl, PHP and `wsgate ctl` send neither. */
export function isLocalToolRequest(headers: { origin?: string | undefined; host?: string | undefined }): boolean {
  if (headers.origin !== undefined) return false;
  if (headers.host === undefined) return true;
  const host = headers.host.startsWith('[') ? headers.host.slice(0, headers.host.indexOf(']') + 1) : headers.host.split(':')[0]!;
  return isLoopbackHost(host);
}
