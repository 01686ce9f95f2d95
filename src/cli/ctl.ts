// Placeholder until the command lands; replaced by its owner.
import { ExitCode, type CliIO } from './io.js';

export async function ctl(_args: string[], io: CliIO): Promise<number> {
  io.stderr.write('wsgate ctl: not available yet\n');
  return ExitCode.Runtime;
}
