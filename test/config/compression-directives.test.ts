// The WebSocketCompression… directives: defaults (off), per-Location values, and clear errors.
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { brief, tempTree } from './helpers.js';

const root = tempTree({ 'h/echo.mjs': 'export default {};\n' });
const load = (text: string) => loadConfigText(text, join(root, 'w.conf'), { env: {} });
const location = (path: string, extra: string) => `<Location ${path}>\nSetHandler websocket-handler\nWebSocketHandler h/echo.mjs\n${extra}</Location>\n`;

test('off by default; On per Location with threshold, context takeover and window bits', () => {
  const { config, diagnostics } = load(
    'WebSocketCompressionThreshold 256\n' +
      location('/plain', '') +
      location('/feed', 'WebSocketCompression On\nWebSocketCompressionContextTakeover On\nWebSocketCompressionWindowBits 10\n'),
  );
  expect(diagnostics).toEqual([]);
  const [plain, feed] = config.endpoints.map((e) => e.settings);
  expect(plain).toMatchObject({ compression: false, compressionThreshold: 256, compressionContextTakeover: false, compressionWindowBits: 15 });
  expect(feed).toMatchObject({ compression: true, compressionThreshold: 256, compressionContextTakeover: true, compressionWindowBits: 10 });
});

test('bad values say what is expected, at the argument', () => {
  expect(brief(load('WebSocketCompression yes\nWebSocketCompressionWindowBits 8\nWebSocketCompressionWindowBits 16\nWebSocketCompressionThreshold 1k\nWebSocketCompressionContextTakeover\n').diagnostics)).toEqual([
    "1:22 error WebSocketCompression must be On or Off, not 'yes'",
    '2:32 error WebSocketCompressionWindowBits takes a number from 9 to 15, not 8',
    '3:32 error WebSocketCompressionWindowBits takes a number from 9 to 15, not 16',
    "4:31 error WebSocketCompressionThreshold takes a whole number, not '1k'",
    '5:1 error WebSocketCompressionContextTakeover takes one argument (WebSocketCompressionContextTakeover On|Off), got 0',
  ]);
});
