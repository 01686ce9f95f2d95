// Include / IncludeOptional as Apache 2.4 does them: globs, order, optional, missing, cycles.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { globToRegExp } from '../../src/config/include.js';
import { loadConfig } from '../../src/config/load.js';
import { resolveTree, type ConfigNode } from '../../src/config/tree.js';
import { brief, fixtureTree, tempTree } from './helpers.js';

const names = (nodes: readonly ConfigNode[]): string[] => nodes.flatMap((n) => [`${n.name} ${n.args.join(' ')}`.trim(), ...names(n.children ?? []).map((c) => `  ${c}`)]);

describe('Include', () => {
  test('wildcards sorted byte-wise, dot files skipped, optional misses silent, cycles reported', () => {
    const root = fixtureTree();
    const main = join(root, 'includes', 'main.conf');
    const { config, diagnostics } = loadConfig(main, { env: {} });
    expect(Object.keys(config.defines)).toEqual(['FROM_A', 'FROM_B']);
    expect(diagnostics.map((d) => `${d.loc.file.slice(root.length)}:${d.loc.line}:${d.loc.column} ${d.message}`)).toEqual([
      `/includes/cycle/b.conf:1:9 Include cycle: ${join(root, 'includes/cycle/a.conf')} → ${join(root, 'includes/cycle/b.conf')} → ${join(root, 'includes/cycle/a.conf')}`,
    ]);
  });

  test('resolveTree keeps Include nodes with the included files as children, and every Apache directive', () => {
    const root = tempTree({ 'main.conf': 'DocumentRoot /x\nInclude parts\n<IfDefine NO>\nHidden 1\n</IfDefine>\n<IfDefine !NO>\nShown 1\n</IfDefine>\n', 'parts/2.conf': 'Two 2\n', 'parts/1.conf': 'One ${V}\n', 'parts/sub/3.conf': '<Directory /d>\nOptions None\n</Directory>\n' });
    const { nodes, diagnostics } = resolveTree(join(root, 'main.conf'), { env: { V: 'v' } });
    expect(diagnostics).toEqual([]);
    expect(names(nodes)).toEqual(['DocumentRoot /x', 'Include parts', '  One v', '  Two 2', '  Directory /d', '    Options None', 'IfDefine !NO', '  Shown 1']);
    expect(nodes[1]?.children?.[0]?.loc).toEqual({ file: join(root, 'parts/1.conf'), line: 1, column: 1 });
  });

  test('missing files and wildcards without matches are errors for Include only', () => {
    const root = tempTree({ 'empty/.keep': '' });
    const text = 'Include nope.conf\nInclude empty/*.conf\nInclude nodir/*.conf\nIncludeOptional nope.conf\nIncludeOptional empty/*.conf\nIncludeOptional nodir/*.conf\n';
    const { diagnostics } = loadConfig(join(root, 'main.conf'), {});
    expect(brief(diagnostics)).toEqual(['0:0 error cannot read the configuration file: no such file']);
    const file = join(root, 'm.conf');
    writeFileSync(file, text);
    expect(brief(loadConfig(file, {}).diagnostics)).toEqual([
      `1:9 error Include: could not open configuration file ${join(root, 'nope.conf')}: no such file or directory`,
      `2:9 error Include: no matches for the wildcard '*.conf' in '${join(root, 'empty')}' (use IncludeOptional if that is expected)`,
      `3:9 error Include: could not open directory ${join(root, 'nodir')}: no such file or directory`,
    ]);
  });

  test('wildcards in directory segments, and the sysroot for absolute paths', () => {
    const root = tempTree({ 'etc/a/x.conf': 'Listen 1\n', 'etc/b/x.conf': 'Listen 2\n', 'etc/b/y.txt': 'Listen 3\n', 'main.conf': 'Include /etc/*/x.conf\n' });
    const { config, diagnostics } = loadConfig(join(root, 'main.conf'), { sysroot: root });
    expect(brief(diagnostics)).toEqual([expect.stringMatching(/^0:0 warning no WebSocket endpoint/)]);
    expect(config.listen.map((l) => l.port)).toEqual([1, 2]);
  });

  test('fnmatch patterns', () => {
    const re = globToRegExp('[!a]?.c*f');
    expect(['bx.conf', 'ax.conf', 'bxy.conf', 'b/.conf'].map((s) => re.test(s))).toEqual([true, false, false, false]);
    expect(globToRegExp('a.b+(c)').test('a.b+(c)')).toBe(true);
  });
});
