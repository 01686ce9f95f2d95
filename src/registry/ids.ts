// Connection ids: chosen by the client (`?id=`) or generated, as the registry's key.
import { randomBytes } from 'node:crypto';
import { WsgateError } from '../errors.js';

const ID_PATTERN = /^[A-Za-z0-9._~-]{1,128}$/;
// RFC 4648 base32 alphabet: upper-case, no 0/1/8/9 to confuse with letters.
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const GENERATED_LENGTH = 10;

/** The id a client asked for, checked; undefined when it asked for none. */
export function requestedId(query: URLSearchParams): string | undefined {
  const id = query.get('id');
  if (id === null) return undefined;
  if (!ID_PATTERN.test(id)) {
    throw new WsgateError('HANDSHAKE_BAD_REQUEST', 'the id query parameter must be 1-128 characters of A-Z a-z 0-9 . _ ~ -', {
      status: 400,
    });
  }
  return id;
}

/** 10 random base32 characters (50 bits), e.g. `QVZS7CQWAE`. 256 is a multiple of 32, so `% 32` has no bias. */
export function generateId(): string {
  const bytes = randomBytes(GENERATED_LENGTH);
  let id = '';
  for (let i = 0; i < GENERATED_LENGTH; i++) id += BASE32[bytes[i]! % 32];
  return id;
}
