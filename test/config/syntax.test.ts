// Lexer and parser: how Apache reads a line, and every syntax error with its exact line:column.
import { describe, expect, test } from 'vitest';
import { parseConfigText, type SyntaxNode } from '../../src/config/syntax.js';
import { toLogicalSource } from '../../src/config/source.js';
import { loadConfigText } from '../../src/config/load.js';
import { brief } from './helpers.js';

const parse = (text: string) => parseConfigText(text, 't.conf');
const args = (n: SyntaxNode | undefined) => n?.args.map((a) => a.value);

describe('logical lines', () => {
  test('a backslash at the end of a line joins the next one, and positions stay physical', () => {
    const src = toLogicalSource('A b \\\n  c\r\nD\n', 'f');
    expect(src.text).toBe('A b   c\nD\n');
    expect(src.locate(6)).toEqual({ file: 'f', line: 2, column: 3 });
    expect(src.locate(8)).toEqual({ file: 'f', line: 3, column: 1 });
  });

  test('a backslash followed by blanks does not continue; CRLF and a BOM are accepted', () => {
    const { nodes } = parse('\ufeffA x\\ \r\nB y\r\n');
    expect(nodes.map((n) => [n.name, args(n)])).toEqual([['A', ['x\\']], ['B', ['y']]]);
  });

  test('a comment line ending in a backslash swallows the next line, as in Apache', () => {
    const { nodes } = parse('# comment \\\nHidden directive\nShown yes\n');
    expect(nodes.map((n) => n.name)).toEqual(['Shown']);
  });
});

describe('arguments', () => {
  test('quotes, escapes, and # inside a line', () => {
    const { nodes, diagnostics } = parse(`Header set X "a#b" 'c d' "e \\"q\\" \\\\ f" g\\\\h i"j k#l\n`);
    expect(diagnostics).toEqual([]);
    expect(args(nodes[0])).toEqual(['set', 'X', 'a#b', 'c d', 'e "q" \\ f', 'g\\h', 'i"j', 'k#l']);
    expect(nodes[0]?.args.map((a) => a.loc.column)).toEqual([8, 12, 14, 20, 26, 41, 46, 50]);
  });

  test('a quote ends an argument and the next one starts right after it', () => {
    expect(args(parse('A "x"y\n').nodes[0])).toEqual(['x', 'y']);
  });

  test('an unterminated quote runs to the end of the line, with a warning at the quote', () => {
    const { nodes, diagnostics } = parse('A\nHeader set X "abc def\n');
    expect(args(nodes[1])).toEqual(['set', 'X', 'abc def']);
    expect(brief(diagnostics)).toEqual(['2:14 warning quoted argument has no closing ": it runs to the end of the line (Apache reads it the same way)']);
  });

  test('comments only at the start of a line, blank lines and indentation are ignored', () => {
    const { nodes } = parse('\n   # indented comment\n\t\tKeepAlive On # not a comment\n');
    expect(nodes).toHaveLength(1);
    expect(args(nodes[0])).toEqual(['On', '#', 'not', 'a', 'comment']);
    expect(nodes[0]?.loc).toEqual({ file: 't.conf', line: 3, column: 3 });
  });
});

describe('sections', () => {
  test('nesting, case-insensitive closing tags, and the last > closing the tag', () => {
    const { nodes, diagnostics } = parse('<IfModule mod_websocket.c>\n<location "/a>b">\n X 1\n</LOCATION>\n</ifmodule>\n');
    expect(diagnostics).toEqual([]);
    const location = nodes[0]?.children?.[0];
    expect(location?.name).toBe('location');
    expect(args(location)).toEqual(['/a>b']);
    expect(location?.children?.map((c) => c.name)).toEqual(['X']);
  });

  test('an unquoted > before the last one belongs to the argument (Apache takes the last >)', () => {
    expect(args(parse('<LocationMatch ^/a>b>\n</LocationMatch>\n').nodes[0])).toEqual(['^/a>b']);
  });

  test('text after the closing > is ignored with a warning', () => {
    const { diagnostics } = parse('<Location /x> trailing\n</Location>\n');
    expect(brief(diagnostics)).toEqual(["1:15 warning text after the closing '>' is ignored (as Apache does)"]);
  });

  test('every syntax error of a file is reported, each at its line and column', () => {
    const text = [
      '<Location /a', //             1: missing >
      '</Location>', //              2
      '<Directory /x>', //           3
      '  <Files y>', //              4
      '  </Directory>', //           5: closes Files too (mismatch)
      '</Location>', //              6: stray close
      '< Location /b>', //           7: no name
      '</Directory extra>', //       8: stray + argument
      '<VirtualHost *:80>', //       9: never closed
      '  <Location /c>', //         10: never closed
    ].join('\n');
    const { diagnostics } = parse(text);
    expect(brief(diagnostics)).toEqual([
      "1:13 error expected '>' at the end of the <Location> line",
      '5:3 error expected </Files> (to close <Files> from line 4) but found </Directory>',
      '6:1 error </Location> without matching <Location> section',
      "7:1 error expected a section name right after '<' (e.g. <Location /path>)",
      "8:13 error unexpected argument 'extra': a closing tag is just </Directory>",
      '8:1 error </Directory> without matching <Directory> section',
      '10:3 error <Location> is not closed: expected </Location> before the end of the file',
      '9:1 error <VirtualHost> is not closed: expected </VirtualHost> before the end of the file',
    ]);
  });

  test('a mismatched closing tag closes the innermost section: one mistake, one error, no follow-ons', () => {
    const text = '<Location /a>\nSetHandler server-status\n</LocationMatch>\nServerName x\n<Location /b>\n</Location>\nServerName y\n';
    expect(parse(text).nodes.map((n) => n.name)).toEqual(['Location', 'ServerName', 'Location', 'ServerName']);
    expect(brief(loadConfigText(text, 't.conf', { env: {} }).diagnostics)).toEqual([
      '3:1 error expected </Location> (to close <Location> from line 1) but found </LocationMatch>',
    ]);
  });

  test('closing tags are one word ending in > and section names are followed by a blank, as Apache reads them', () => {
    const text = [
      '<Location /a>', '</LOCATION >', //        1-2: blank before >
      '<Location /b>', '</Location>#c', //       3-4: text glued to >
      '<Location /c>', '</Location> # ok', //    5-6: Apache ignores it
      '<Location/d>', '</Location>', //          7-8: no blank after the name
      '<Location/e>', '</Location/e>', //        9-10: closed as written
    ].join('\n');
    const { nodes, diagnostics } = parse(text);
    expect(brief(diagnostics)).toEqual([
      "2:11 error expected '>' right after </LOCATION: Apache allows no blank inside a closing tag",
      "4:12 error unexpected '#c' right after </Location>: Apache reads it as part of the tag; put a blank before it or remove it",
      "6:13 warning text after the closing '>' is ignored (as Apache does)",
      "7:10 error expected a blank between <Location and '/d': Apache reads <Location/d> as an unknown section; write <Location /d>",
      "9:10 error expected a blank between <Location and '/e': Apache reads <Location/e> as an unknown section; write <Location /e>",
    ]);
    // Each error is reported once and the section is still read as meant.
    expect(nodes.map((n) => `${n.name} ${args(n)?.join(' ')} ${n.args[0]?.loc.column}`)).toEqual(['Location /a 11', 'Location /b 11', 'Location /c 11', 'Location /d 10', 'Location /e 10']);
  });

  test('a bare < or </ is one error each', () => {
    expect(brief(parse('<\n  </\n').diagnostics)).toEqual([
      "1:1 error expected a section name right after '<' (e.g. <Location /path>)",
      "2:3 error expected a section name right after '</' (e.g. </Location>)",
    ]);
  });

  test('bad input never throws: bounded random configs from a hostile alphabet', () => {
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const alphabet = ['<', '</', '>', '"', "'", '\\', '\n', '\r\n', ' ', '\t', '#', '${', '}', 'Location', 'IfModule', 'SetHandler', 'websocket-handler', 'WebSocketHandler', 'Include', '*', 'MaxMessageSize', '64M', '/x', '~', 'Define', 'V', 'Listen', ':80', '\u0000', 'é'];
    for (let i = 0; i < 300; i++) {
      let text = '';
      const length = Math.floor(next() * 80);
      for (let j = 0; j < length; j++) text += alphabet[Math.floor(next() * alphabet.length)];
      expect(() => loadConfigText(text, 'fuzz.conf', { env: {}, serverRoot: '/nonexistent-wsgate-root' })).not.toThrow();
    }
  });

  test('a line after a broken one is still read', () => {
    const { nodes } = parse('<Location /a\nSetHandler x\n</Location>\nAfter 1\n');
    expect(nodes.map((n) => n.name)).toEqual(['Location', 'After']);
    expect(nodes[0]?.children?.map((c) => c.name)).toEqual(['SetHandler']);
  });

  test('positions after a continuation point at the physical line', () => {
    const { diagnostics } = parse('<Location \\\n  /a\n');
    expect(brief(diagnostics)).toEqual([
      "2:5 error expected '>' at the end of the <Location> line",
      '1:1 error <Location> is not closed: expected </Location> before the end of the file',
    ]);
  });
});
