// Placeholder until the command lands; replaced by its owner.
import { ExitCode, type CliIO } from './io.js';

export async function apache(_args: string[], io: CliIO): Promise<number> {
  io.stderr.write('wsgate apache: not available yet\n');
  return ExitCode.Runtime;
}
