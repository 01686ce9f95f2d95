// Browser origins in one normal form, for WebSocketTrustedOrigin (normalised once, when the config
// is read) and for the Origin header of each handshake (server/origin.ts), so they compare as strings.

/** `scheme://host[:port]` lower-cased, the scheme's default port dropped (`http://h:80` → `http://h`);
 *  undefined unless `text` is a bare origin (an opaque `null`, userinfo, a path, a query or a
 *  fragment all disqualify it). Non-http schemes (`chrome-extension://id`) keep their host. */
export function normaliseOrigin(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return undefined;
  }
  const bare = url.host !== '' && url.username === '' && url.password === '' && (url.pathname === '' || url.pathname === '/') && url.search === '' && url.hash === '';
  return bare ? `${url.protocol}//${url.host}`.toLowerCase() : undefined;
}
