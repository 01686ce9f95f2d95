// What the Apache installation on this machine looks like, for `wsgate apache` run on the Apache
// host: Debian and Ubuntu keep one `.load` file per module in /etc/apache2/mods-available and
// enable them with a2enmod; their modules live in /usr/lib/apache2/modules, not ServerRoot/modules.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildTree } from '../config/tree.js';
import type { LoadedModule } from '../config/model.js';
import { inferModulesDir } from './modules.js';

export const debianConfDir = '/etc/apache2';

export interface ApacheLayout {
  /** a2enmod manages the modules (a mods-available/ directory exists). */
  a2enmod: boolean;
  /** The directory of the system's module files, when its LoadModule lines name one. */
  modulesDir: string | undefined;
}

/** The LoadModule lines of `confDir/mods-available/*.load`, read by the config parser. */
function availableModules(confDir: string): LoadedModule[] {
  const main = join(confDir, 'apache2.conf');
  const { loadedModules } = buildTree(`IncludeOptional "${join(confDir, 'mods-available')}/*.load"\n`, main, { serverRoot: confDir });
  return loadedModules;
}

export function detectApacheLayout(confDir = debianConfDir): ApacheLayout {
  if (!existsSync(join(confDir, 'mods-available'))) return { a2enmod: false, modulesDir: undefined };
  return { a2enmod: true, modulesDir: inferModulesDir(availableModules(confDir).map((m) => m.path)) };
}
