// The undefined dynamic symbols of a shared library (ELF64, little-endian: x86-64, arm64), so that
// a plugin needing httpd functions wsgate lacks is told all of them at once instead of dlopen's
// first. Anything else (another format, a truncated file) yields undefined: the caller falls back
// to dlopen's message.
import { readFileSync } from 'node:fs';

const SHT_DYNSYM = 11;
const STB_WEAK = 2;
const SYMBOL_SIZE = 24;
const SECTION_HEADER_SIZE = 64;

function cString(buf: Buffer, at: number): string {
  const end = buf.indexOf(0, at);
  return buf.toString('latin1', at, end < 0 ? buf.length : end);
}

/** Names the library needs from elsewhere (weak references left out: they may stay unresolved). */
export function undefinedSymbols(path: string): string[] | undefined {
  let elf: Buffer;
  try {
    elf = readFileSync(path);
  } catch {
    return undefined;
  }
  try {
    if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) return undefined;
    const sectionsAt = Number(elf.readBigUInt64LE(0x28));
    const sectionCount = elf.readUInt16LE(0x3c);
    const section = (i: number) => {
      const at = sectionsAt + i * SECTION_HEADER_SIZE;
      return { type: elf.readUInt32LE(at + 4), offset: Number(elf.readBigUInt64LE(at + 0x18)), size: Number(elf.readBigUInt64LE(at + 0x20)), link: elf.readUInt32LE(at + 0x28) };
    };
    for (let i = 0; i < sectionCount; i++) {
      const symbols = section(i);
      if (symbols.type !== SHT_DYNSYM) continue;
      const strings = section(symbols.link);
      const names: string[] = [];
      for (let at = symbols.offset + SYMBOL_SIZE; at + SYMBOL_SIZE <= symbols.offset + symbols.size; at += SYMBOL_SIZE) {
        const nameAt = elf.readUInt32LE(at);
        const binding = elf[at + 4]! >> 4;
        const sectionIndex = elf.readUInt16LE(at + 6);
        if (sectionIndex !== 0 || binding === STB_WEAK || nameAt === 0) continue;
        names.push(cString(elf, strings.offset + nameAt));
      }
      return names;
    }
    return [];
  } catch {
    return undefined;
  }
}
