// Argument parsing shared by the commands: node's parseArgs with wsgate's usage-error convention.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A misuse of the command line: the command prints it with its usage on stderr and exits 1. */
export class UsageError extends Error {}

/** parseArgs, with every parse error turned into a UsageError. A stray word where the command reads
 *  a config file (`wsgate check FILE`) gets the hint to use -f. */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' && config.options?.file?.short === 'f') {
      const word = strayWord(config);
      if (word !== undefined) throw new UsageError(`unexpected argument '${word}': to read it as the config file, use -f ${word}`);
    }
    throw new UsageError(message);
  }
}

/** The first positional word, parsed leniently. */
function strayWord(config: ParseArgsConfig): string | undefined {
  try {
    return parseArgs({ ...config, allowPositionals: true, strict: false }).positionals[0];
  } catch {
    return undefined;
  }
}
