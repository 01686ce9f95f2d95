// What a command talks to. Tests run commands in-process with their own streams.
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Where `wsgate ctl send ID -` reads its message; absent for callers without one. */
  stdin?: NodeJS.ReadableStream;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export const processIO = (): CliIO => ({ stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, cwd: process.cwd(), env: process.env });

/** Exit codes of ARCHITECTURE §2. */
export const ExitCode = { Ok: 0, ConfigOrUsage: 1, Runtime: 2 } as const;

export type Command = (args: string[], io: CliIO) => Promise<number>;
