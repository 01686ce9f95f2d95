// The README reference is generated from the schema; this fails when they drift apart.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { renderDirectiveReference } from '../../src/config/docs.js';
import { defaultEndpointSettings, directiveSchema, endpointDirectives, findDirective } from '../../src/config/schema.js';

describe('directive reference', () => {
  test("README's section between the markers is exactly the generator's output (regenerate: npm run build && node scripts/gen-config-docs.mjs)", () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const section = /<!-- directives:begin -->\n([\s\S]*)<!-- directives:end -->/.exec(readme)?.[1];
    expect(section).toBe(renderDirectiveReference());
  });

  test('every schema directive is documented once, with its syntax', () => {
    const doc = renderDirectiveReference();
    for (const d of directiveSchema) expect(doc.split(`| \`${d.syntax.replace(/\|/g, '\\|')}\` |`)).toHaveLength(2);
  });

  test('schema: unique names, case-insensitive lookup, defaults per EndpointSettings field', () => {
    const names = directiveSchema.map((d) => d.name.toLowerCase());
    expect(new Set(names).size).toBe(names.length);
    expect(findDirective('maxmessagesize')?.name).toBe('MaxMessageSize');
    expect(Object.keys(defaultEndpointSettings()).sort()).toEqual(Object.values(endpointDirectives).map((d) => d.field).sort());
    expect(defaultEndpointSettings()).toMatchObject({ maxMessageSize: 33554432, supportDraft75: false, originCheck: 'same', sendQueueLimit: 16777216 });
  });
});
