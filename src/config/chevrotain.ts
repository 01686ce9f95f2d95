// Chevrotain, loaded from the single-file ES module build its package ships (lib/chevrotain.mjs)
// instead of its module tree. The tree imports 640 lodash-es files, which cost about 0.45 s at
// every start of `check`, `serve` and `reload`; the bundle is the same version's own build of the
// same code and loads in about 20 ms. The package's "exports" name only the tree, so the bundle is
// found next to it (wherever npm put the package). Import chevrotain's types from 'chevrotain'
// itself (`import type`), its values from here.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

type Chevrotain = typeof import('chevrotain');

const tree = createRequire(import.meta.url).resolve('chevrotain'); // …/chevrotain/lib/src/api.js
const bundle = pathToFileURL(join(dirname(dirname(tree)), 'chevrotain.mjs')).href;
const chevrotain = (await import(bundle)) as Chevrotain;

export const { createToken, EmbeddedActionsParser, Lexer } = chevrotain;
