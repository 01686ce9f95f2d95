// `${NAME}` as Apache 2.4 expands it: Define'd variables first, then the process environment;
// an unknown name is left as written (and reported as a warning by the caller).
import { maxLogicalLineChars } from './source.js';

const reference = /\$\{([^}]+)\}/g;

/** Longest argument after substitution: Defines that double each other (Define B ${A}${A}) would
 *  otherwise grow without bound. */
export const maxExpandedChars = maxLogicalLineChars;

/** The text with every known `${NAME}` replaced, or undefined when the result would be longer
 *  than maxExpandedChars (onTooLong is told which name crossed the limit). */
export function substituteVariables(
  text: string,
  lookup: (name: string) => string | undefined,
  onUndefined: (name: string) => void,
  onTooLong: (name: string) => void = () => undefined,
): string | undefined {
  if (!text.includes('${')) return text;
  let length = text.length;
  let tooLong: string | undefined;
  const out = text.replace(reference, (whole, name: string) => {
    if (tooLong !== undefined) return whole;
    const value = lookup(name);
    if (value === undefined) {
      onUndefined(name);
      return whole;
    }
    length += value.length - whole.length;
    if (length > maxExpandedChars) {
      tooLong = name;
      return whole;
    }
    return value;
  });
  if (tooLong === undefined) return out;
  onTooLong(tooLong);
  return undefined;
}
