// The three ways of forwarding a WebSocket Location to the gateway (see apache/README-apache.md).
export enum ProxyStyle {
  /** `ProxyPass http://… upgrade=websocket` — mod_proxy_http, recommended since Apache 2.4.47. */
  Proxy = 'proxy',
  /** `ProxyPass ws://…` with the old mod_proxy_wstunnel code path. */
  Wstunnel = 'wstunnel',
  /** mod_rewrite on the Upgrade header, for URLs that also serve plain HTTP. */
  Rewrite = 'rewrite',
}

export const proxyStyles: readonly ProxyStyle[] = [ProxyStyle.Proxy, ProxyStyle.Wstunnel, ProxyStyle.Rewrite];

export function parseProxyStyle(value: string): ProxyStyle | undefined {
  return proxyStyles.find((style) => style === value);
}
