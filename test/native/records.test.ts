// dispatchRecords on hand-built record bytes: [u32 token][u32 type][u32 length][payload], little-endian.
import { describe, expect, test } from 'vitest';
import { CallInput, dispatchRecords, RecordType, type PluginLogLine, type RecordTarget } from '../../src/plugins/native/records.js';

function record(token: number, type: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt32LE(token, 0);
  head.writeUInt32LE(type, 4);
  head.writeUInt32LE(payload.length, 8);
  return Buffer.concat([head, payload]);
}

function u32s(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32LE(v, 4 * i));
  return b;
}

type Seen = [string, ...unknown[]];

class RecordingTarget implements RecordTarget {
  readonly seen: Seen[] = [];
  deliver(type: RecordType, payload: Buffer): void {
    this.seen.push(['deliver', type, payload.toString('latin1')]);
  }
  deliverFrames(frames: Buffer, count: number): void {
    this.seen.push(['frames', count, frames.toString('hex')]);
  }
  disconnected(): void {
    this.seen.push(['disconnected']);
  }
  pluginLog(line: PluginLogLine): void {
    this.seen.push(['log', line.level, line.source, line.text]);
  }
}

describe('dispatchRecords', () => {
  test('reads every field as an unsigned 32-bit number: tokens, types, lengths and offsets with the high bit set', () => {
    const high = 0xfffffffe;
    const other = 0x80000001;
    const targets = new Map<number, RecordingTarget>([
      [high, new RecordingTarget()],
      [other, new RecordingTarget()],
    ]);
    const input = CallInput.of(Buffer.from('..hello, world'));
    const buf = Buffer.concat([
      record(high, RecordType.Text, Buffer.from('text')),
      record(other, RecordType.Binary, Buffer.from([0xff, 0x80])),
      record(high, RecordType.InputSlice, u32s(RecordType.Binary, 2, 5)),
      record(other, RecordType.Frames, Buffer.concat([u32s(2), Buffer.from([0x81, 0x01, 0x61, 0x82, 0x00])])),
      record(high, RecordType.Log, Buffer.from('\x03echo.c(7)\0plugin says')),
      record(other, RecordType.Disconnected, Buffer.alloc(0)),
    ]);
    expect(dispatchRecords(buf, 0, buf.length, (token) => targets.get(token), undefined, undefined, input)).toBe(buf.length);
    expect(targets.get(high)!.seen).toEqual([
      ['deliver', RecordType.Text, 'text'],
      ['deliver', RecordType.Binary, 'hello'],
      ['log', 3, 'echo.c(7)', 'plugin says'],
    ]);
    expect(targets.get(other)!.seen).toEqual([['deliver', RecordType.Binary, '\xff\x80'], ['frames', 2, '8101618200'], ['disconnected']]);
  });

  test('skips records of unknown tokens (their logs go to the orphan log), stops where keepGoing says, and ignores a cut-off header', () => {
    const target = new RecordingTarget();
    const orphans: PluginLogLine[] = [];
    const records = Array.from({ length: 40 }, (_, i) => record(i % 2 === 0 ? 7 : 9, RecordType.Text, Buffer.from(String(i))));
    records.push(record(9, RecordType.Log, Buffer.from('\x06\0lost')));
    const buf = Buffer.concat([...records, Buffer.alloc(11)]);
    const lookup = (token: number) => (token === 7 ? target : undefined);
    let checks = 0;
    // Checked after every 32 records: stop at the first check.
    const stoppedAt = dispatchRecords(buf, 0, buf.length, lookup, (line) => orphans.push(line), () => ++checks > 1);
    expect(checks).toBe(1);
    expect(target.seen.map((s) => s[2])).toEqual(Array.from({ length: 16 }, (_, i) => String(2 * i)));
    expect(stoppedAt).toBe(records.slice(0, 31).reduce((n, r) => n + r.length, 0));
    // Going on from there reaches the end; the 11 trailing bytes are no record.
    expect(dispatchRecords(buf, stoppedAt, buf.length, lookup, (line) => orphans.push(line))).toBe(buf.length);
    expect(target.seen).toHaveLength(20);
    expect(orphans).toEqual([{ level: 6, source: '', text: 'lost' }]);
  });

  test('an input slice record without its input is an error, not a silent drop', () => {
    const buf = record(1, RecordType.InputSlice, u32s(RecordType.Text, 0, 1));
    expect(() => dispatchRecords(buf, 0, buf.length, () => new RecordingTarget())).toThrow(/input slice record without its input/);
  });
});

describe('CallInput', () => {
  // One read's memory with three messages in it, as the decoder hands them over.
  const memory = new ArrayBuffer(64);
  const bytes = Buffer.from(memory);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i;
  const first = Buffer.from(memory, 4, 10);
  const empty = Buffer.alloc(0);
  const second = Buffer.from(memory, 20, 12);
  const third = Buffer.from(memory, 40, 8);

  test('a slice that is all of one message is that message itself; any other is a view of the same bytes', () => {
    const input = new CallInput([first, empty, second, third], memory, 0);
    expect(input.slice(4, 10)).toBe(first);
    // Part of a message, then an earlier message again (the cursor has passed it): right bytes, new views.
    const part = input.slice(22, 4);
    expect(part.buffer).toBe(memory);
    expect([...part]).toEqual([22, 23, 24, 25]);
    expect([...input.slice(4, 10)]).toEqual([...first]);
    expect(input.slice(4, 10)).not.toBe(first);
    // The cursor did not pass the message the partial slice lay in, nor skip past the empty one wrongly.
    expect(input.slice(20, 12)).toBe(second);
    expect(input.slice(40, 8)).toBe(third);
    // Beyond the last message: still the memory's bytes.
    expect([...input.slice(50, 2)]).toEqual([50, 51]);
  });

  test('offsets count from where the pointer the helper got points (one message: its own start)', () => {
    const input = CallInput.of(second);
    expect(input.slice(0, 12)).toBe(second);
    const tail = CallInput.of(second).slice(2, 3);
    expect(tail.byteOffset).toBe(22);
    expect([...tail]).toEqual([22, 23, 24]);
  });
});
