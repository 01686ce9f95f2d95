// Which configuration file `serve` and `check` read when no -f is given: ./conf/wsgate.conf if the
// working directory has one, else the default shipped with the package (so both commands agree).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's own conf/wsgate.conf (this file is src/config/ or dist/config/, two levels down). */
export const shippedConfigFile = (): string => fileURLToPath(new URL('../../conf/wsgate.conf', import.meta.url));

export function defaultConfigFile(cwd: string): string {
  const local = resolve(cwd, 'conf/wsgate.conf');
  return existsSync(local) ? local : shippedConfigFile();
}
