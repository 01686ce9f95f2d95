// The Apache modules a generated config needs, and how it gets them: LoadModule lines (each only
// when the module is not loaded already), or — on Debian/Ubuntu, where `a2enmod` manages
// mods-enabled/ — no LoadModule at all, only a check that stops `apache2 -t` with the command to run.
import { dirname } from 'node:path';
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
const balancer: ApacheModule = { name: 'proxy_balancer_module', file: 'mod_proxy_balancer.so' };
const slotmem: ApacheModule = { name: 'slotmem_shm_module', file: 'mod_slotmem_shm.so' };
const byBusyness: ApacheModule = { name: 'lbmethod_bybusyness_module', file: 'mod_lbmethod_bybusyness.so' };

export interface ModuleNeeds {
  /** A TLS vhost: RequestHeader X-Forwarded-Proto. */
  headers: boolean;
  /** An https:// / wss:// backend: SSLProxyEngine. */
  ssl: boolean;
  /** Several nodes: mod_proxy_balancer (which needs mod_slotmem_shm) with lbmethod=bybusyness. */
  balancer?: boolean;
}

/** How the generated config gets its modules. */
export enum ModuleLoading {
  /** `<IfModule !x_module> LoadModule x_module DIR/mod_x.so </IfModule>`. */
  Load = 'load',
  /** No LoadModule; `<IfModule !x_module> Error "… a2enmod x" </IfModule>` (Debian/Ubuntu). */
  A2enmod = 'a2enmod',
}

export const moduleLoadings: readonly ModuleLoading[] = [ModuleLoading.Load, ModuleLoading.A2enmod];

export function parseModuleLoading(value: string): ModuleLoading | undefined {
  return moduleLoadings.find((m) => m === value);
}

export function requiredModules(style: ProxyStyle, needs: ModuleNeeds): ApacheModule[] {
  const byStyle: Record<ProxyStyle, ApacheModule[]> = {
    // mod_rewrite picks the WebSocket handshakes (see endpoint-block.ts).
    [ProxyStyle.Proxy]: [proxy, proxyHttp, rewrite],
    [ProxyStyle.Wstunnel]: [proxy, proxyWstunnel],
    // ws:// targets: mod_proxy_http handles them when loaded (2.4.47+), mod_proxy_wstunnel otherwise.
    [ProxyStyle.Rewrite]: [proxy, proxyHttp, proxyWstunnel, rewrite],
  };
  return [...byStyle[style], ...(needs.balancer ? [balancer, slotmem, byBusyness] : []), ...(needs.headers ? [headers] : []), ...(needs.ssl ? [ssl] : [])];
}

/** The name `a2enmod` takes: the identifier without `_module`. */
export const a2enmodName = (module: ApacheModule): string => module.name.replace(/_module$/, '');

/** `a2enmod proxy proxy_http rewrite`: what a Debian admin runs before enabling the config. */
export const a2enmodCommand = (modules: readonly ApacheModule[]): string => `a2enmod ${modules.map(a2enmodName).join(' ')}`;

/** `modulesDir` is relative to Apache's ServerRoot unless absolute ('modules' upstream,
 *  '/usr/lib/apache2/modules' on Debian and Ubuntu). */
export function renderModuleLines(modules: readonly ApacheModule[], loading: ModuleLoading, modulesDir: string): string[] {
  if (loading === ModuleLoading.A2enmod) {
    // Error aborts `apache2 -t` with the fix, instead of a config that silently proxies nothing.
    return modules.flatMap((m) => [`<IfModule !${m.name}>`, `    Error "wsgate: mod_${a2enmodName(m)} is not enabled: run ${a2enmodCommand(modules)}"`, '</IfModule>']);
  }
  const dir = modulesDir.replace(/\/+$/, '');
  return modules.flatMap((m) => [`<IfModule !${m.name}>`, `    LoadModule ${m.name} ${dir}/${m.file}`, '</IfModule>']);
}

/** Where a tree keeps its modules: the directory of the first LoadModule path with one
 *  (`wsgate migrate` reads it from the tree it migrates, `wsgate apache` from the gateway config
 *  or the system's mods-available/). */
export function inferModulesDir(paths: readonly (string | undefined)[]): string | undefined {
  const path = paths.find((p) => p !== undefined && p.includes('/'));
  return path === undefined ? undefined : dirname(path);
}
