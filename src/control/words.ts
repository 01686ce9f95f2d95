// One argument of a line-protocol command (an id, a group, a Location) as a single word:
// anything that could split or corrupt the line is percent-encoded, the rest stays readable.
import { WsgateError } from '../errors.js';

/** Space, '%', control and non-ASCII characters percent-encoded (UTF-8), so the word has no blanks. */
export function encodeWord(value: string): string {
  return value.replace(/[^\x21-\x24\x26-\x7e]/gu, (c) => {
    try {
      return encodeURIComponent(c);
    } catch {
      return '%EF%BF%BD'; // a lone surrogate: U+FFFD
    }
  });
}

/** A Location as a filter word: encoded like any word, and a leading '@' escaped so it cannot
 *  be read as @GROUP. */
export function encodeLocationWord(location: string): string {
  return encodeWord(location).replace(/^@/, '%40');
}

/** Percent-decodes a word that contains '%'; `what` names it in the error ('id', 'group'…). */
export function decodeWord(word: string, what: string): string {
  if (!word.includes('%')) return word;
  try {
    return decodeURIComponent(word);
  } catch {
    throw new WsgateError('CONTROL_COMMAND', `bad percent-encoding in ${what} '${word.slice(0, 40)}' (write a literal % as %25)`, { status: 400 });
  }
}

/** decodeWord, or undefined instead of an error (for a word that may also be plain text). */
export function tryDecodeWord(word: string): string | undefined {
  try {
    return decodeWord(word, 'word');
  } catch {
    return undefined;
  }
}
