// Runs a wsgate command in-process with captured output.
import { PassThrough } from 'node:stream';
import type { Command } from '../../src/cli/io.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCommand(command: Command, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<CommandResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => { out += d.toString(); });
  stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const code = await command(args, { stdout, stderr, cwd, env });
  return { code, stdout: out, stderr: err };
}
