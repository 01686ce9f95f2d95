// The scheme of the page a browser would connect from. X-Forwarded-Proto may name the socket's
// scheme (ws/wss, as some proxies forward it) where an Origin header always names the page's.

export type PageScheme = 'http' | 'https';

/** `http`/`ws` → http, `https`/`wss` → https (any case); undefined for anything else. */
export function pageScheme(proto: string | undefined): PageScheme | undefined {
  switch (proto?.trim().toLowerCase()) {
    case 'http':
    case 'ws':
      return 'http';
    case 'https':
    case 'wss':
      return 'https';
    default:
      return undefined;
  }
}

/** The WebSocket scheme a page of this scheme connects with (hixie's Sec-WebSocket-Location). */
export function socketScheme(page: PageScheme): 'ws' | 'wss' {
  return page === 'https' ? 'wss' : 'ws';
}
