// `wsgate reload [-f FILE] [-D NAME]...`: like `apachectl graceful`: checks the config (handlers
// loaded, as `check` does) and, only when it is sound, sends SIGHUP to the running gateway named by
// the config's WebSocketPidFile. The gateway reads the config again and logs how the reload went.
import { readFile } from 'node:fs/promises';
import { parseCommandArgs, UsageError } from './args.js';
import { configOptions, configOptionsHelp, readCommandConfig } from './config-file.js';
import { ExitCode, type CliIO } from './io.js';

const help = `usage: wsgate reload [-f FILE] [-D NAME]...

Checks FILE like wsgate check, then asks the gateway whose process id is in FILE's
WebSocketPidFile to reload it (SIGHUP): new connections go to workers running the new
config, the old workers keep theirs for WebSocketReloadDeadline seconds. Nothing is sent
when the config has errors (exit 1). Without WebSocketPidFile, send SIGHUP yourself
(systemctl reload wsgate, or kill -HUP PID).
${configOptionsHelp}
  -h, --help             this text
`;

export async function reload(args: string[], io: CliIO): Promise<number> {
  let values: { file?: string; define?: string[]; help?: boolean };
  try {
    ({ values } = parseCommandArgs({ args, options: { ...configOptions, help: { type: 'boolean', short: 'h' } }, allowPositionals: false }));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`wsgate reload: ${err.message}\n${help}`);
    return ExitCode.ConfigOrUsage;
  }
  if (values.help) {
    io.stdout.write(help);
    return ExitCode.Ok;
  }
  const { config, ok, show } = await readCommandConfig(values, io);
  if (!ok) {
    io.stderr.write('wsgate reload: the config has errors: nothing was sent\n');
    return ExitCode.ConfigOrUsage;
  }
  const pidFile = config.processes.pidFile;
  if (pidFile === undefined) {
    io.stderr.write(`wsgate reload: ${show(config.file)} has no WebSocketPidFile: add one, or send SIGHUP to the wsgate serve process\n`);
    return ExitCode.ConfigOrUsage;
  }
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new Error('it holds no process id');
    process.kill(pid, 'SIGHUP');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'it does not exist (is wsgate serve running?)' : e.code === 'ESRCH' ? 'no such process (a stale pid file?)' : e.message;
    io.stderr.write(`wsgate reload: cannot signal the gateway in ${show(pidFile)}: ${why}\n`);
    return ExitCode.Runtime;
  }
  io.stdout.write(`Syntax OK\nreload requested (SIGHUP to ${pid}); the gateway's log says how it went\n`);
  return ExitCode.Ok;
}
