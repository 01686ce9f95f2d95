// Line protocol answers. Every command gets exactly one status line, `OK …` or `ERR CODE message`;
// LIST, INFO and HELP answer `OK n`, exactly n data lines, then `END`: a client knows from the
// status line how many lines follow, and the end marker lets it check it stayed in step.
import { isWsgateError } from '../errors.js';
import type { ControlResult } from './commands.js';
import { formatPeer } from './connection-info.js';
import { encodeWord } from './words.js';

export function formatResult(result: ControlResult): string {
  switch (result.kind) {
    case 'pong':
      return 'OK PONG\n';
    case 'bye':
      return 'OK BYE\n';
    case 'help':
      return block(result.lines);
    case 'status':
      return block([JSON.stringify(result.report)]);
    case 'list':
      return block(
        result.connections.map((c) => (result.detail ? JSON.stringify(c) : `${encodeWord(c.id)} ${formatPeer(c)}`)),
        result.unreachable,
      );
    case 'info':
      return block([JSON.stringify(result.connection)]);
    case 'sent':
      return `OK SENT ${result.count}${unreachableSuffix(result.unreachable)}\n`;
    case 'closed':
      return 'OK CLOSED\n';
    case 'joined':
      return 'OK JOINED\n';
    case 'left':
      return 'OK LEFT\n';
  }
}

export function formatError(err: unknown): string {
  const [code, message] = isWsgateError(err) ? [err.code, err.message] : ['IO', 'internal error'];
  return `ERR ${code} ${message.replace(/[\r\n]+/g, ' ')}\n`;
}

/** The line that follows the data lines of a block answer. */
export const blockEnd = 'END';

/** ` UNREACHABLE w2,w3` after a status line when workers did not answer; '' otherwise. */
function unreachableSuffix(unreachable: readonly string[]): string {
  return unreachable.length > 0 ? ` ${UNREACHABLE_WORD} ${unreachable.join(',')}` : '';
}

export const UNREACHABLE_WORD = 'UNREACHABLE';

function block(lines: string[], unreachable: readonly string[] = []): string {
  return `OK ${lines.length}${unreachableSuffix(unreachable)}\n${lines.map((l) => `${l}\n`).join('')}${blockEnd}\n`;
}
