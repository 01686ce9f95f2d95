// Builds the native plugin host helper (build/libwsgate_native.so) and the example C plugins
// (build/plugins/*.so) with the system C compiler ($CC, default `cc`).
// Exit status non-zero when the helper cannot be built: scripts/build.mjs then prints a warning and
// the install still succeeds (JS handlers work; native `WebSocketHandler` lines report why not).
// Outputs are written to a temporary name and renamed, so concurrent builds (parallel test files)
// never leave a half-written library; up-to-date outputs are skipped unless --force.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const quiet = process.argv.includes('--quiet');
const force = process.argv.includes('--force');
const say = (msg) => { if (!quiet) process.stderr.write(`wsgate build-native: ${msg}\n`); };
const cc = process.env.CC || 'cc';
const include = join(root, 'handlers', 'include');
const header = join(include, 'websocket_plugin.h');
const buildDir = join(root, 'build');

function aprIncludes() {
  const r = spawnSync('apr-1-config', ['--includes'], { encoding: 'utf8' });
  if (r.status === 0) return r.stdout.trim().split(/\s+/).filter(Boolean);
  for (const dir of ['/usr/include/apr-1.0', '/usr/include/apr-1', '/usr/local/include/apr-1']) {
    if (existsSync(join(dir, 'apr_pools.h'))) return [`-I${dir}`];
  }
  return undefined;
}

/** Apache 2.4's httpd.h (Debian: apache2-dev), for the httpd shim; undefined when not installed. */
function httpdIncludes() {
  for (const apxs of ['apxs2', 'apxs']) {
    const r = spawnSync(apxs, ['-q', 'INCLUDEDIR'], { encoding: 'utf8' });
    const dir = r.status === 0 ? r.stdout.trim() : '';
    if (dir && existsSync(join(dir, 'httpd.h'))) return [`-I${dir}`];
  }
  for (const dir of ['/usr/include/apache2', '/usr/include/httpd', '/usr/local/apache2/include']) {
    if (existsSync(join(dir, 'httpd.h'))) return [`-I${dir}`];
  }
  return undefined;
}

function upToDate(output, inputs) {
  if (force || !existsSync(output)) return false;
  const built = statSync(output).mtimeMs;
  return inputs.every((file) => statSync(file).mtimeMs <= built);
}

/** Compiles `sources` into the shared library `output`; true on success. */
function compile(output, sources, flags) {
  if (upToDate(output, [...sources, ...(flags.deps ?? []), header, fileURLToPath(import.meta.url)])) return true;
  mkdirSync(dirname(output), { recursive: true });
  const temp = `${output}.${process.pid}.tmp`;
  const args = ['-shared', '-fPIC', '-O2', '-Wall', '-Wextra', `-I${include}`, ...flags.cflags, '-o', temp, ...sources, ...flags.libs];
  const r = spawnSync(cc, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    rmSync(temp, { force: true });
    say(r.error ? `${cc}: ${r.error.message}` : `${cc} failed for ${output}:\n${r.stderr}`);
    return false;
  }
  if (r.stderr.trim()) say(r.stderr.trim());
  renameSync(temp, output);
  return true;
}

const nativeSrc = join(root, 'src', 'plugins', 'native');
const helperOk = compile(join(buildDir, 'libwsgate_native.so'), [join(nativeSrc, 'wsgate_native.c')], {
  // -z nodelete: never unmapped, even if koffi drops its handle while plugin threads run.
  cflags: ['-pthread', '-fvisibility=hidden'],
  deps: [join(nativeSrc, 'httpd_shim.h')],
  libs: [...(process.platform === 'darwin' ? [] : ['-Wl,-z,nodelete', '-ldl']), '-pthread'],
});
if (!helperOk) process.exit(1);

// The httpd shim: request() as Apache 2.4's request_rec, and the ap_* functions plugins call.
// Optional: without httpd.h, request() stays a zeroed stand-in whose first field is the pool.
const apr = aprIncludes();
const httpd = httpdIncludes();
const shim = join(buildDir, 'libwsgate_httpd.so');
if (apr && httpd) {
  compile(shim, [join(nativeSrc, 'request_rec.c'), join(nativeSrc, 'httpd_shim.c')], {
    cflags: ['-fvisibility=hidden', ...httpd, ...apr],
    libs: [...(process.platform === 'darwin' ? [] : ['-Wl,-z,nodelete']), '-lapr-1', '-laprutil-1'],
    deps: [join(nativeSrc, 'httpd_shim.h'), join(nativeSrc, 'request_rec.h')],
  });
} else {
  say(`Apache's httpd.h not found (install apache2-dev): ${shim} skipped, plugins get a zeroed stand-in request_rec and no ap_* functions`);
}

const examples = join(root, 'handlers', 'c');
compile(join(buildDir, 'plugins', 'echo.so'), [join(examples, 'echo.c')], { cflags: [], libs: [] });
if (apr) {
  compile(join(buildDir, 'plugins', 'dumb_increment.so'), [join(examples, 'dumb_increment.c')], { cflags: ['-pthread', ...apr], libs: ['-pthread', '-lapr-1'] });
} else {
  say('APR headers not found (install libapr1-dev): build/plugins/dumb_increment.so skipped');
}
say('native helper and example plugins built in build/');
