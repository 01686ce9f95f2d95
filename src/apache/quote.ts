// Apache config argument quoting. Inside double quotes Apache only treats `\"` specially
// (ap_getword_conf), so escaping the quote is all that is needed.
export function quoteArg(value: string): string {
  return `"${value.replace(/"/g, '\\"')}"`;
}

/** Indents every non-empty line by `depth` levels of four spaces. */
export function indent(lines: readonly string[], depth = 1): string[] {
  const pad = '    '.repeat(depth);
  return lines.map((line) => (line === '' ? '' : pad + line));
}

/** An argument as Apache reads it back: bare when it can be, quoted otherwise. */
export function configArg(value: string): string {
  return value === '' || /[\s"'\\#]/.test(value) ? quoteArg(value) : value;
}

export interface DirectiveLike {
  name: string;
  args: readonly string[];
  children?: readonly DirectiveLike[];
}

/** Writes a directive (or a section with its children) back as config lines. */
export function renderDirective(node: DirectiveLike): string[] {
  const line = [node.name, ...node.args.map(configArg)].join(' ');
  if (!node.children) return [line];
  return [`<${line}>`, ...indent(node.children.flatMap(renderDirective)), `</${node.name}>`];
}
