// The Apache modules a generated config needs, each loaded only when not loaded already.
import { ProxyStyle } from './style.js';

export interface ApacheModule {
  /** Module identifier as in `LoadModule NAME file` and `<IfModule NAME>`. */
  name: string;
  file: string;
}

const proxy: ApacheModule = { name: 'proxy_module', file: 'mod_proxy.so' };
const proxyHttp: ApacheModule = { name: 'proxy_http_module', file: 'mod_proxy_http.so' };
const proxyWstunnel: ApacheModule = { name: 'proxy_wstunnel_module', file: 'mod_proxy_wstunnel.so' };
const rewrite: ApacheModule = { name: 'rewrite_module', file: 'mod_rewrite.so' };
const headers: ApacheModule = { name: 'headers_module', file: 'mod_headers.so' };
const ssl: ApacheModule = { name: 'ssl_module', file: 'mod_ssl.so' };

export interface ModuleNeeds {
  /** A TLS vhost: RequestHeader X-Forwarded-Proto. */
  headers: boolean;
  /** An https:// / wss:// backend: SSLProxyEngine. */
  ssl: boolean;
}

export function requiredModules(style: ProxyStyle, needs: ModuleNeeds): ApacheModule[] {
  const byStyle: Record<ProxyStyle, ApacheModule[]> = {
    [ProxyStyle.Proxy]: [proxy, proxyHttp],
    [ProxyStyle.Wstunnel]: [proxy, proxyWstunnel],
    // ws:// targets: mod_proxy_http handles them when loaded (2.4.47+), mod_proxy_wstunnel otherwise.
    [ProxyStyle.Rewrite]: [proxy, proxyHttp, proxyWstunnel, rewrite],
  };
  return [...byStyle[style], ...(needs.headers ? [headers] : []), ...(needs.ssl ? [ssl] : [])];
}

/** `modulesDir` is relative to Apache's ServerRoot unless absolute ('modules' upstream,
 *  '/usr/lib/apache2/modules' on Debian and Ubuntu). */
export function renderModuleLines(modules: readonly ApacheModule[], modulesDir: string): string[] {
  const dir = modulesDir.replace(/\/+$/, '');
  return modules.flatMap((m) => [`<IfModule !${m.name}>`, `    LoadModule ${m.name} ${dir}/${m.file}`, '</IfModule>']);
}
