// Argument value parsers shared by the schema. They throw ValueError; the resolver turns it into
// a diagnostic at the offending argument.
import { isIP } from 'node:net';
import type { OriginCheck } from './model.js';
import { normaliseOrigin } from './origin-form.js';

export class ValueError extends Error {
  constructor(
    message: string,
    /** Which argument is wrong (0-based). */
    readonly argIndex = 0,
  ) {
    super(message);
  }
}

const unitFactor: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** A positive whole number of bytes. `withUnit` explains how a `64M` style value was misread. */
export function parsePositiveBytes(value: string, directive: string, atoiHistory: boolean): number {
  const unit = /^(\d+)\s*([kKmMgG])[bB]?$/.exec(value);
  if (unit) {
    const n = Number(unit[1]);
    const exact = n * (unitFactor[unit[2]!.toLowerCase()] ?? 1);
    const history = atoiHistory ? ` (mod_websocket read '${value}' as ${n} bytes)` : '';
    throw new ValueError(`${directive} takes a plain number of bytes, not '${value}'${history}; write ${exact} for ${n}${unit[2]!.toUpperCase()}iB`);
  }
  const n = parseWholeNumber(value, directive);
  if (n === 0) throw new ValueError(`${directive} must be greater than 0`);
  return n;
}

export function parseWholeNumber(value: string, directive: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    const sign = value.startsWith('-') ? ' (negative values are not allowed)' : '';
    throw new ValueError(`${directive} takes a whole number, not '${value}'${sign}`);
  }
  return Number(value);
}

/** permessage-deflate window bits: 9–15 (zlib cannot deflate raw streams with 8). */
export function parseWindowBits(value: string, directive: string): number {
  const n = parseWholeNumber(value, directive);
  if (n < 9 || n > 15) throw new ValueError(`${directive} takes a number from 9 to 15, not ${n}`);
  return n;
}

export function parseSeconds(value: string, directive: string, allowZero: boolean): number {
  const n = parseWholeNumber(value, directive);
  if (n === 0 && !allowZero) throw new ValueError(`${directive} must be at least 1 second`);
  return n;
}

export function parseOnOff(value: string, directive: string): boolean {
  const v = value.toLowerCase();
  if (v === 'on') return true;
  if (v === 'off') return false;
  throw new ValueError(`${directive} must be On or Off, not '${value}'`);
}

export function parseOriginCheck(value: string): OriginCheck {
  const v = value.toLowerCase();
  if (v === 'same' || v === 'trusted' || v === 'off') return v;
  throw new ValueError(`WebSocketOriginCheck must be Same, Trusted or Off, not '${value}'`);
}

/** A browser origin: scheme://host[:port], no path. Returned in normal form (origin-form.ts). */
export function parseOrigin(value: string, index: number): string {
  const normal = normaliseOrigin(value);
  if (normal === undefined) {
    throw new ValueError(`'${value}' is not an origin: write scheme://host[:port] with no path, e.g. https://example.com`, index);
  }
  return normal;
}

export function parseAddressOrCidr(value: string, index: number): string {
  const [address = '', prefix, ...rest] = value.split('/');
  const family = isIP(address);
  const max = family === 6 ? 128 : 32;
  const prefixOk = prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= max);
  if (family === 0 || !prefixOk || rest.length > 0) {
    throw new ValueError(`'${value}' is not an IP address or CIDR range (e.g. 10.0.0.0/8, ::1)`, index);
  }
  return value;
}

export interface HostPort {
  host: string | undefined;
  port: number;
}

/** `HOST:PORT`, `[IPV6]:PORT`: the written form parseHostPort reads back. */
export function formatHostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Apache Listen forms: `80`, `1.2.3.4:80`, `[::1]:80`, `host:80`. IPv6 is returned without brackets.
 *  Port 0 (any free port) is allowed, unlike Apache, so tests can bind ephemeral ports. */
export function parseHostPort(value: string, directive: string): HostPort {
  const m = /^(?:\[([^\]]+)\]:|([^:[\]]+):)?(\d+)$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port > 65535) {
    throw new ValueError(`${directive} expects [ADDRESS:]PORT (80, 1.2.3.4:80, [::1]:80) with a port up to 65535, not '${value}'`);
  }
  if (m[1] !== undefined && isIP(m[1]) !== 6) throw new ValueError(`${directive}: '${m[1]}' in brackets is not an IPv6 address`);
  const host = m[1] ?? m[2];
  return { host: host === '*' ? undefined : host, port }; // Apache reads `*:80` as all interfaces
}

export function parseOctalMode(value: string, directive: string): number {
  if (!/^0?[0-7]{3}$/.test(value)) throw new ValueError(`${directive} MODE must be octal like 0660, not '${value}'`, 1);
  return Number.parseInt(value, 8);
}

const apacheToPino: Record<string, string> = {
  emerg: 'fatal', alert: 'fatal', crit: 'fatal', error: 'error', warn: 'warn', notice: 'info', info: 'info', debug: 'debug',
};

/** `LogLevel [module:]level…`: the first bare level sets wsgate's level; undefined when there is none. */
export function parseLogLevel(args: readonly string[]): string | undefined {
  let level: string | undefined;
  args.forEach((arg, index) => {
    const bare = !arg.includes(':');
    const name = arg.slice(arg.lastIndexOf(':') + 1).toLowerCase();
    const mapped = apacheToPino[name] ?? (/^trace[1-8]$/.test(name) ? 'trace' : undefined);
    if (mapped === undefined) {
      throw new ValueError(`'${arg}' is not an Apache log level (emerg, alert, crit, error, warn, notice, info, debug, trace1…trace8)`, index);
    }
    if (bare) level ??= mapped;
  });
  return level;
}
