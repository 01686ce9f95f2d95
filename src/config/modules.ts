// `<IfModule X>`: X is a source file name (`mod_ssl.c`) or a module identifier (`ssl_module`);
// both reduce to one key so either spelling matches a LoadModule line or a wsgate provider.

/** Source files whose name is not `mod_<id>.c` for module `<id>_module`. */
const sourceAliases: Record<string, string> = { event: 'mpm_event', prefork: 'mpm_prefork', worker: 'mpm_worker' };

export function moduleKey(id: string): string {
  const s = id.toLowerCase();
  if (s.endsWith('.c')) {
    const base = s.slice(0, -2);
    return sourceAliases[base] ?? base.replace(/^mod_/, '');
  }
  return s.endsWith('_module') ? s.slice(0, -'_module'.length) : s;
}

/** Modules wsgate itself provides: mod_websocket (both protocol generations) and mod_remoteip's directives. */
export const providedModules: readonly string[] = ['mod_websocket.c', 'mod_websocket_draft76.c', 'mod_remoteip.c'];
