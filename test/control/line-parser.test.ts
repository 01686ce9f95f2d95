import { describe, expect, it } from 'vitest';
import { LineParser, type LineRequest } from '../../src/control/line-parser.js';
import { payloadLengthOf } from '../../src/control/line-commands.js';

function feed(parser: LineParser, input: Buffer, chunkSize: number): LineRequest[] {
  const out: LineRequest[] = [];
  for (let i = 0; i < input.length; i += chunkSize) out.push(...parser.push(input.subarray(i, i + chunkSize)));
  return out;
}

const summary = (r: LineRequest): string =>
  r.kind === 'line' ? `line:${r.line}` : r.kind === 'payload' ? `payload:${r.line}:${r.payload.toString('hex')}` : `error:${r.error.code}:${r.fatal}`;

describe('LineParser', () => {
  const stream = Buffer.concat([
    Buffer.from('PING\r\nLIST WEBSOCKETS\n\nSENDB a 3\n'),
    Buffer.from([0x00, 0x0a, 0xff]),
    Buffer.from('\nSENDT b 0\nSEND MESSAGE c hé llo\n'),
  ]);
  const expected = ['line:PING', 'line:LIST WEBSOCKETS', 'payload:SENDB a 3:000aff', 'payload:SENDT b 0:', 'line:SEND MESSAGE c hé llo'];

  for (const size of [1, 2, 3, 7, 1000]) {
    it(`frames the same requests when the input arrives in ${size}-byte pieces`, () => {
      expect(feed(new LineParser(payloadLengthOf), stream, size).map(summary)).toEqual(expected);
    });
  }

  it('answers an over-long line with an error and keeps going at the next line', () => {
    const parser = new LineParser(payloadLengthOf, { maxLineBytes: 8 });
    const input = Buffer.from('12345678\nPING 12345678901234567890\nPING\n12345678\r\n');
    for (const size of [1, 5, input.length]) {
      const p = new LineParser(payloadLengthOf, { maxLineBytes: 8 });
      expect(feed(p, input, size).map(summary)).toEqual(['line:12345678', 'error:MESSAGE_TOO_BIG:false', 'line:PING', 'line:12345678']);
    }
    expect(parser.stopped).toBe(false);
  });

  it('stops at an over-long payload (its content is never read as commands, the stream never swallowed)', () => {
    const parser = new LineParser(payloadLengthOf, { maxPayloadBytes: 4 });
    const input = Buffer.from('PING\nSENDB x 10\nCLOSE a\nXYPING\nSENDB y 4\nabcd');
    const out = feed(parser, input, 3);
    expect(out.map(summary)).toEqual(['line:PING', 'error:MESSAGE_TOO_BIG:true']);
    expect(out[1]?.kind === 'error' && out[1].error.message).toBe(
      'payload of 10 bytes announced, more than the 4 allowed (WebSocketControlMaxPayload); closing, as the bytes that follow cannot be told from commands',
    );
    expect(parser.stopped).toBe(true);
    // A 15-digit length: the same at once, with the default limit.
    expect(new LineParser(payloadLengthOf).push(Buffer.from('SENDB x 999999999999999\nPING\n')).map(summary)).toEqual(['error:MESSAGE_TOO_BIG:true']);
  });

  it('stops at a payload command without a readable length', () => {
    const parser = new LineParser(payloadLengthOf);
    const out = parser.push(Buffer.from('SENDB x lots\nPING\n'));
    expect(out.map(summary)).toEqual(['error:CONTROL_COMMAND:true']);
    expect(parser.stopped).toBe(true);
    expect(parser.push(Buffer.from('PING\n'))).toEqual([]);
  });

  it('reports a line that is not UTF-8 and continues', () => {
    const parser = new LineParser(payloadLengthOf);
    const out = parser.push(Buffer.concat([Buffer.from('SEND MESSAGE a '), Buffer.from([0xc3, 0x28]), Buffer.from('\nPING\n')]));
    expect(out.map(summary)).toEqual(['error:INVALID_UTF8:false', 'line:PING']);
  });

  it('delivers a 1 MiB payload intact across small chunks', () => {
    const payload = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
    const parser = new LineParser(payloadLengthOf);
    const out = feed(parser, Buffer.concat([Buffer.from(`SENDB big ${payload.length}\n`), payload, Buffer.from('PING\n')]), 65536);
    expect(out.length).toBe(2);
    expect(out[0]!.kind === 'payload' && out[0]!.payload.equals(payload)).toBe(true);
    expect(summary(out[1]!)).toBe('line:PING');
  });
});
