// Host names as Apache compares them when it picks a name-based virtual host: case-insensitive,
// without the port, and (for ServerName, which may be written `[scheme://]host[:port]`) without the scheme.

/** `host:port` → host, `[v6]:port` → v6; a bare IPv6 address (several colons, no brackets) is kept whole. */
function withoutPort(text: string): string {
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    return end > 0 ? text.slice(1, end) : text;
  }
  const colon = text.indexOf(':');
  return colon >= 0 && colon === text.lastIndexOf(':') ? text.slice(0, colon) : text;
}

/** Apache drops one trailing dot (`example.com.` is `example.com`). */
function withoutTrailingDot(name: string): string {
  return name.length > 1 && name.endsWith('.') ? name.slice(0, -1) : name;
}

/** The name in a request's Host header: `Example.com:8080` → `example.com`, `[::1]:80` → `::1`. */
export function hostName(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  const name = withoutTrailingDot(withoutPort(host.trim())).toLowerCase();
  return name === '' ? undefined : name;
}

/** The name in a ServerName or ServerAlias (wildcards kept): `https://WS.example.com:8443/` → `ws.example.com`. */
export function configuredHostName(value: string): string | undefined {
  const noScheme = value.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  // A ServerName written as a URL may end in `/`; nothing after the authority names the host.
  const authority = noScheme.startsWith('[') ? noScheme : noScheme.split('/', 1)[0]!;
  const name = withoutTrailingDot(withoutPort(authority)).toLowerCase();
  return name === '' ? undefined : name;
}
