// pluginClose: what a plugin's close payload (as the helper queues it) becomes on the wire.
import { describe, expect, test } from 'vitest';
import { INVALID_CLOSE_REASON, pluginClose } from '../../src/plugins/native/close-payload.js';

const bytes = (code: number, reason: Buffer | string = '') => Buffer.concat([Buffer.from([code >> 8, code & 255]), Buffer.from(reason)]);

describe('pluginClose', () => {
  test('empty: no code (the peer sees 1005), nothing to warn about', () => {
    expect(pluginClose(Buffer.alloc(0))).toEqual({ code: undefined, reason: '' });
  });

  test('a valid code and UTF-8 reason are sent exactly', () => {
    expect(pluginClose(bytes(4001, 'bye ✓'))).toEqual({ code: 4001, reason: 'bye ✓' });
    expect(pluginClose(bytes(1000))).toEqual({ code: 1000, reason: '' });
    expect(pluginClose(bytes(1014, 'x'.repeat(123)))).toEqual({ code: 1014, reason: 'x'.repeat(123) });
  });

  test('1 byte → 1011', () => {
    expect(pluginClose(Buffer.from([3]))).toMatchObject({ code: 1011, reason: INVALID_CLOSE_REASON, problem: expect.stringMatching(/1-byte/) });
  });

  test.each([0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000])('code %i → 1011', (code) => {
    expect(pluginClose(bytes(code, 'reason'))).toMatchObject({ code: 1011, reason: INVALID_CLOSE_REASON, problem: expect.stringContaining(`code ${code}`) });
  });

  test('a reason that is not UTF-8 is dropped (overlong, surrogate, truncated sequence)', () => {
    for (const bad of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x41, 0xe2, 0x82]]) {
      expect(pluginClose(bytes(4001, Buffer.from(bad)))).toMatchObject({ code: 4001, reason: '', problem: expect.stringMatching(/not valid UTF-8/) });
    }
  });

  test('over 125 bytes: cut to 123 bytes of reason, backing off to a character start', () => {
    // The helper queues at most 126 bytes; the 126th shows the payload was longer.
    const ascii = pluginClose(bytes(4001, 'a'.repeat(124)));
    expect(ascii).toMatchObject({ code: 4001, reason: 'a'.repeat(123), problem: expect.stringMatching(/over 125 bytes/) });
    const euro = pluginClose(bytes(4001, `${'a'.repeat(121)}€`)); // € = 3 bytes at 121..123
    expect(euro).toMatchObject({ code: 4001, reason: 'a'.repeat(121) });
    const exact = pluginClose(bytes(4001, `${'a'.repeat(120)}€z`)); // € ends at byte 123
    expect(exact).toMatchObject({ code: 4001, reason: `${'a'.repeat(120)}€` });
  });
});
