// Benches that open thousands of connections need more descriptors than a soft limit of 1024: the
// bench re-executes itself under `ulimit -n` raised as far as the hard limit allows.
import { spawn } from 'node:child_process';

/** True when this process already runs with the raised limit (`flag` is set in its environment);
 *  otherwise starts `script` again with it and exits with that child's code. */
export function withRaisedFileLimit(script, flag) {
  if (process.env[flag] !== undefined) return true;
  const sh = `ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; ${flag}="$(ulimit -n)" exec "$0" "$@"`;
  const child = spawn('/bin/sh', ['-c', sh, process.execPath, script, ...process.argv.slice(2)], { stdio: 'inherit' });
  child.once('exit', (code) => process.exit(code ?? 1));
  return false;
}
