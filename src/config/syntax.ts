// One file's text → a tree of directives and sections, with every syntax error of the file.
// No meaning is given here (Include, Define, IfModule … are resolved in tree.ts).
import type { IToken } from 'chevrotain';
import type { SourceLocation } from '../errors.js';
import { DiagnosticSink } from './diagnostics.js';
import { parseLine, type ParsedLine } from './grammar.js';
import { toLogicalSource, type LogicalSource } from './source.js';
import { ArgsEnd, Comment, LineEnd, Quoted, configLexer } from './tokens.js';

export interface Arg {
  /** The argument after unquoting (`\"` → `"`, `\\` → `\`). */
  value: string;
  quoted: boolean;
  loc: SourceLocation;
}

export interface SyntaxNode {
  /** As written (`Location` for `<Location …>`); compare case-insensitively. */
  name: string;
  args: Arg[];
  loc: SourceLocation;
  /** Present for `<Section>` nodes. */
  children?: SyntaxNode[];
}

export interface ParsedFile {
  nodes: SyntaxNode[];
  diagnostics: SyntaxDiagnostics;
}

type SyntaxDiagnostics = DiagnosticSink['list'];

const terminatedQuote = /^(?:"(?:[^"\\\n]|\\[^\n])*"|'(?:[^'\\\n]|\\[^\n])*')$/s;

function toArg(token: IToken, src: LogicalSource, sink: DiagnosticSink): Arg {
  const loc = src.locate(token.startOffset);
  const image = token.image;
  if (token.tokenType !== Quoted) return { value: image.replace(/\\\\/g, '\\'), quoted: false, loc };
  const quote = image[0] ?? '"';
  const closed = terminatedQuote.test(image);
  if (!closed) {
    sink.warning('CONFIG_SYNTAX', loc, `quoted argument has no closing ${quote}: it runs to the end of the line (Apache reads it the same way)`);
  }
  const inner = image.slice(1, closed ? -1 : undefined);
  const escape = quote === '"' ? /\\(["\\])/g : /\\(['\\])/g;
  return { value: inner.replace(escape, '$1'), quoted: true, loc };
}

interface OpenSection {
  node: SyntaxNode & { children: SyntaxNode[] };
}

export function parseConfigText(raw: string, file: string): ParsedFile {
  const src = toLogicalSource(raw, file);
  const sink = new DiagnosticSink();
  const { tokens } = configLexer.tokenize(src.text); // every character is some token: no lexer errors
  const top: SyntaxNode[] = [];
  const stack: OpenSection[] = [];
  const container = (): SyntaxNode[] => stack[stack.length - 1]?.node.children ?? top;

  const handle = (parsed: ParsedLine): void => {
    const loc = src.locate(parsed.head.startOffset);
    const args = parsed.args.map((t) => toArg(t, src, sink));
    if (parsed.kind === 'directive') {
      container().push({ name: parsed.head.image, args, loc });
      return;
    }
    const first = parsed.trailing[0];
    if (first) sink.warning('CONFIG_SYNTAX', src.locate(first.startOffset), "text after the closing '>' is ignored (as Apache does)");
    if (parsed.kind === 'open') {
      const name = parsed.head.image.slice(1);
      if (name === '') {
        sink.error('CONFIG_SYNTAX', loc, "expected a section name right after '<' (e.g. <Location /path>)");
        return;
      }
      const node = { name, args, loc, children: [] as SyntaxNode[] };
      container().push(node);
      stack.push({ node });
      return;
    }
    const closing = parsed.head.image.slice(2);
    if (closing === '') sink.error('CONFIG_SYNTAX', loc, "expected a section name right after '</' (e.g. </Location>)");
    else closeSection(closing, args, loc);
  };

  const closeSection = (name: string, args: Arg[], loc: SourceLocation): void => {
    const extra = args[0];
    if (extra) sink.error('CONFIG_SYNTAX', extra.loc, `unexpected argument '${extra.value}': a closing tag is just </${name}>`);
    const open = stack[stack.length - 1];
    if (!open) {
      sink.error('CONFIG_SYNTAX', loc, `</${name}> without matching <${name}> section`);
      return;
    }
    if (open.node.name.toLowerCase() === name.toLowerCase()) {
      stack.pop();
      return;
    }
    const o = open.node;
    sink.error('CONFIG_SYNTAX', loc, `expected </${o.name}> (to close <${o.name}> from line ${o.loc.line}) but found </${name}>`);
    // Resynchronise: if an outer section has this name, the inner ones end here too.
    const outer = stack.findLastIndex((s) => s.node.name.toLowerCase() === name.toLowerCase());
    if (outer >= 0) stack.length = outer;
  };

  let lineTokens: IToken[] = [];
  for (const token of tokens) {
    if (token.tokenType === LineEnd || token.tokenType === ArgsEnd) {
      if (lineTokens.length > 0) {
        const { line, error } = parseLine(lineTokens, token.startOffset);
        const head = lineTokens[0]?.image ?? '';
        // A bare `<` or `</` gets one error (the missing name), not a second one for the `>`.
        if (error && head !== '<' && head !== '</') {
          const tag = head.startsWith('</') ? `</${head.slice(2)}>` : `<${head.slice(1)}>`;
          sink.error('CONFIG_SYNTAX', src.locate(error.offset), `expected ${error.expected} at the end of the ${tag} line`);
        }
        if (line) handle(line);
        lineTokens = [];
      }
    } else if (token.tokenType !== Comment) {
      lineTokens.push(token);
    }
  }
  for (let i = stack.length - 1; i >= 0; i--) {
    const o = stack[i]!.node;
    sink.error('CONFIG_SYNTAX', o.loc, `<${o.name}> is not closed: expected </${o.name}> before the end of the file`);
  }
  return { nodes: top, diagnostics: sink.list };
}
