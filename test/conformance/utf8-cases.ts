// Autobahn 6.5–6.23 payloads (Markus Kuhn's UTF-8 decoder stress test, as the testsuite uses it):
// each a hex byte string and whether it is valid UTF-8 (RFC 3629: no overlongs, no surrogates,
// nothing above U+10FFFF; noncharacters are valid).

export interface Utf8Case {
  id: string;
  hex: string;
  valid: boolean;
}

const KOSME = 'cebae1bdb9cf83cebcceb5'; // "κόσμε"

function group(section: string, valid: boolean, hexes: string[]): Utf8Case[] {
  return hexes.map((hex, i) => ({ id: `${section}.${i + 1}`, hex, valid }));
}

function hexOf(codePoint: number): string {
  return Buffer.from(String.fromCodePoint(codePoint), 'utf8').toString('hex');
}

/** Every prefix of κόσμε: valid exactly when it ends on a code point boundary. */
function kosmePrefixes(): Utf8Case[] {
  const boundaries = new Set([2, 5, 7, 9, 11]);
  return Array.from({ length: 11 }, (_, i) => ({ id: `6.6.${i + 1}`, hex: KOSME.slice(0, (i + 1) * 2), valid: boundaries.has(i + 1) }));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Each lead byte of the range followed by a space (6.13: lonely start characters). */
function lonelyStarts(from: number, to: number): string {
  return range(from, to)
    .map((b) => b.toString(16).padStart(2, '0') + '20')
    .join('');
}

const continuationBytes = range(0x80, 0xbf)
  .map((b) => b.toString(16))
  .join('');

/** U+FFFE/U+FFFF and the last two code points of planes 1–16: noncharacters, still valid UTF-8. */
const nonCharacters = [0xfffe, 0xffff, ...range(1, 16).flatMap((plane) => [plane * 0x10000 + 0xfffe, plane * 0x10000 + 0xffff])];

export const UTF8_CASES: Utf8Case[] = [
  ...group('6.5', true, [KOSME, 'f09d8481', 'e282ac', 'f0a0bcb3']),
  ...kosmePrefixes(),
  ...group('6.7', true, ['00', 'c280', 'e0a080', 'f0908080']),
  ...group('6.8', false, ['f888808080', 'fc8480808080']),
  ...group('6.9', true, ['7f', 'dfbf', 'efbfbf', 'f48fbfbf']),
  ...group('6.10', false, ['f7bfbfbf', 'fbbfbfbfbf', 'fdbfbfbfbfbf']),
  ...group('6.11', true, ['ed9fbf', 'ee8080', 'efbfbd', 'f48fbfbf']),
  { id: '6.11.5', hex: 'f4908080', valid: false },
  ...group('6.12', false, ['80', 'bf', '80bf', '80bf80', '80bf80bf', '80bf80bf80', '80bf80bf80bf', continuationBytes]),
  ...group('6.13', false, [lonelyStarts(0xc0, 0xdf), lonelyStarts(0xe0, 0xef), lonelyStarts(0xf0, 0xf7), lonelyStarts(0xf8, 0xfb), lonelyStarts(0xfc, 0xfd)]),
  ...group('6.14', false, ['c0', 'e080', 'f08080', 'f8808080', 'fc80808080', 'df', 'efbf', 'f7bfbf', 'fbbfbfbf', 'fdbfbfbfbf']),
  ...group('6.15', false, ['c0e080f08080f8808080fc80808080dfefbff7bfbffbbfbfbffdbfbfbfbf']),
  ...group('6.16', false, ['fe', 'ff', 'fefeffff']),
  ...group('6.17', false, ['c0af', 'e080af', 'f08080af', 'f8808080af', 'fc80808080af']),
  ...group('6.18', false, ['c1bf', 'e09fbf', 'f08fbfbf', 'f887bfbfbf', 'fc83bfbfbfbf']),
  ...group('6.19', false, ['c080', 'e08080', 'f0808080', 'f880808080', 'fc8080808080']),
  ...group('6.20', false, ['eda080', 'edadbf', 'edae80', 'edafbf', 'edb080', 'edbe80', 'edbfbf']),
  ...group('6.21', false, [
    'eda080edb080',
    'eda080edbfbf',
    'edadbfedb080',
    'edadbfedbfbf',
    'edae80edb080',
    'edae80edbfbf',
    'edafbfedb080',
    'edafbfedbfbf',
  ]),
  ...group('6.22', true, nonCharacters.map(hexOf)),
  ...group('6.23', true, ['efbfbd', 'efbbbf', '6869efbbbf', hexOf(0xfdd0) + hexOf(0xfdef)]),
];

export const KOSME_HEX = KOSME;
