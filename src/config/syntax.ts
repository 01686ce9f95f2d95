// One file's text → a tree of directives and sections, with every syntax error of the file.
// No meaning is given here (Include, Define, IfModule … are resolved in tree.ts).
import type { IToken } from 'chevrotain';
import type { SourceLocation } from '../errors.js';
import { DiagnosticSink } from './diagnostics.js';
import { parseLine, type ParsedLine } from './grammar.js';
import { toLogicalSource, type LogicalSource } from './source.js';
import { misspeltSection } from './suggest.js';
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
  /** The tag as written when it was split (`<Location/x>` → Location): its own close also matches. */
  written?: string;
}

/** `<Location/x>`: a section name glued to its argument (Apache reads one unknown name '<Location/x'). */
const gluedName = /^([A-Za-z][A-Za-z0-9_]*)([^A-Za-z0-9_].*)$/s;

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
    if (parsed.kind === 'open') {
      trailingText(parsed);
      const written = parsed.head.image.slice(1);
      if (written === '') {
        sink.error('CONFIG_SYNTAX', loc, "expected a section name right after '<' (e.g. <Location /path>)");
        return;
      }
      // Apache refuses '<Location/x' as an unknown directive; read it as meant so its body and its
      // closing tag do not produce follow-on errors.
      const glued = gluedName.exec(written);
      const name = glued?.[1] ?? written;
      if (glued) {
        const restOffset = parsed.head.startOffset + 1 + name.length;
        const rest = glued[2] ?? '';
        sink.error('CONFIG_SYNTAX', src.locate(restOffset), `expected a blank between <${name} and '${rest}': Apache reads <${written}> as an unknown section; write <${name} ${rest}>`);
        args.unshift({ value: rest, quoted: false, loc: src.locate(restOffset) });
      }
      // Apache refuses an unknown section; a misspelt one is then read as meant, so its body gets no
      // follow-on errors ("SetHandler cannot be used inside <Locaton>") and </Locaton> still closes it.
      const meant = misspeltSection(name);
      if (meant !== undefined) sink.error('CONFIG_SYNTAX', loc, `unknown section <${name}>, did you mean <${meant}>?`);
      const node = { name: meant ?? name, args, loc, children: [] as SyntaxNode[] };
      container().push(node);
      stack.push({ node, written: glued ? written : meant !== undefined ? name : undefined });
      return;
    }
    const closing = parsed.head.image.slice(2);
    if (closing === '') {
      sink.error('CONFIG_SYNTAX', loc, "expected a section name right after '</' (e.g. </Location>)");
      return;
    }
    closeTagShape(parsed, closing);
    closeSection(closing, args, loc);
  };

  const trailingText = (parsed: ParsedLine): void => {
    const first = parsed.trailing[0];
    if (first) sink.warning('CONFIG_SYNTAX', src.locate(first.startOffset), "text after the closing '>' is ignored (as Apache does)");
  };

  /** Apache reads a closing tag as ONE word that must end in '>': `</Location >` and `</Location>x` are errors. */
  const closeTagShape = (parsed: ParsedLine, name: string): void => {
    const { head, gt, args } = parsed;
    if (!gt) return; // the missing '>' was reported
    const headEnd = head.startOffset + head.image.length;
    const first = parsed.trailing[0];
    if (args.length === 0 && gt.startOffset !== headEnd) {
      sink.error('CONFIG_SYNTAX', src.locate(headEnd), `expected '>' right after </${name}: Apache allows no blank inside a closing tag`);
    } else if (first && first.startOffset === gt.startOffset + 1) {
      sink.error('CONFIG_SYNTAX', src.locate(first.startOffset), `unexpected '${first.image}' right after </${name}>: Apache reads it as part of the tag; put a blank before it or remove it`);
      return;
    }
    trailingText(parsed);
  };

  const closeSection = (name: string, args: Arg[], loc: SourceLocation): void => {
    const extra = args[0];
    if (extra) sink.error('CONFIG_SYNTAX', extra.loc, `unexpected argument '${extra.value}': a closing tag is just </${name}>`);
    const open = stack[stack.length - 1];
    if (!open) {
      sink.error('CONFIG_SYNTAX', loc, `</${name}> without matching <${name}> section`);
      return;
    }
    const lower = name.toLowerCase();
    const closes = (s: OpenSection): boolean => s.node.name.toLowerCase() === lower || s.written?.toLowerCase() === lower;
    if (closes(open)) {
      stack.pop();
      return;
    }
    const o = open.node;
    sink.error('CONFIG_SYNTAX', loc, `expected </${o.name}> (to close <${o.name}> from line ${o.loc.line}) but found </${name}>`);
    // Resynchronise so that one mistake gives one error: if an outer section has this name, the
    // inner ones were left open and end here too; otherwise the tag was meant for the innermost one.
    const outer = stack.findLastIndex(closes);
    stack.length = outer >= 0 ? outer : stack.length - 1;
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
