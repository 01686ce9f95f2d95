// `wsgate COMMAND …`: picks the command; each command lives in its own file.
import { readFileSync } from 'node:fs';
import { ExitCode, processIO, type CliIO, type Command } from './io.js';

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  serve: { summary: 'run the gateway', load: async () => (await import('./serve.js')).serve },
  check: { summary: 'check a config file, like apachectl -t', load: async () => (await import('./check.js')).check },
  apache: { summary: 'print the Apache config that proxies to the gateway', load: async () => (await import('./apache.js')).apache },
  migrate: { summary: 'turn a mod_websocket Apache setup into a wsgate config', load: async () => (await import('./migrate.js')).migrate },
  ctl: { summary: "talk to a running gateway's control channel", load: async () => (await import('./ctl.js')).ctl },
  status: { summary: "the running gateway's status page, like apachectl fullstatus (--json, --watch)", load: async () => (await import('./status.js')).status },
  reload: { summary: 'check the config, then reload the running gateway gracefully, like apachectl graceful', load: async () => (await import('./reload.js')).reload },
};

export function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return `usage: wsgate COMMAND [options]
       wsgate --version | -v | -V
       wsgate --help | -h

commands:
${lines.join('\n')}

'wsgate COMMAND --help' describes a command. Without a command this text goes to stderr and
the exit code is 1, as for apachectl and git; --help prints it on stdout and exits 0.
`;
}

const versionFlags = new Set(['--version', '-v', '-V', 'version']);

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr.write(usage());
    return ExitCode.ConfigOrUsage;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return ExitCode.Ok;
  }
  if (versionFlags.has(name)) {
    // dist/cli/main.js (or src/cli/main.ts) → the package root.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    io.stdout.write(`wsgate ${pkg.version}\n`);
    return ExitCode.Ok;
  }
  const command = commands[name];
  if (!command) {
    io.stderr.write(`wsgate: unknown command '${name}'\n${usage()}`);
    return ExitCode.ConfigOrUsage;
  }
  return (await command.load())(rest, io);
}
