// `${NAME}` as Apache 2.4 expands it: Define'd variables first, then the process environment;
// an unknown name is left as written (and reported as a warning by the caller).
const reference = /\$\{([^}]+)\}/g;

export function substituteVariables(text: string, lookup: (name: string) => string | undefined, onUndefined: (name: string) => void): string {
  if (!text.includes('${')) return text;
  return text.replace(reference, (whole, name: string) => {
    const value = lookup(name);
    if (value === undefined) {
      onUndefined(name);
      return whole;
    }
    return value;
  });
}
