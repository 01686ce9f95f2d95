// Autobahn-style verdicts over what a RawClient observed: "echoed exactly", "closed cleanly with",
// "failed with". Messages are compared by type, length and digest so 64 KiB mismatches stay readable.
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { OP } from './frame-builder.js';
import { openWebSocket, type OpenOptions, type RawClient } from './raw-client.js';

export interface Message {
  opcode: number;
  data: Buffer;
}

/** How long a case may wait for the server; generous for a loaded 2-core machine. */
export const WAIT_MS = 3000;

export const text = (data: Buffer | string): Message => ({ opcode: OP.text, data: Buffer.from(data) });
export const binary = (data: Buffer): Message => ({ opcode: OP.binary, data });

function summary(message: Message): string {
  const kind = message.opcode === OP.text ? 'text' : message.opcode === OP.binary ? 'binary' : `op${message.opcode}`;
  const digest = createHash('sha1').update(message.data).digest('hex').slice(0, 12);
  const preview = message.data.length <= 16 ? ` ${message.data.toString('hex')}` : '';
  return `${kind} ${message.data.length}B ${digest}${preview}`;
}

/** Waits until the server echoed as many messages as expected (or stopped), then compares exactly. */
export async function expectMessages(client: RawClient, expected: Message[], timeoutMs = WAIT_MS): Promise<void> {
  await client.waitUntil(() => client.messages().length >= expected.length || client.tcpClosed, timeoutMs);
  expect(client.messages().map(summary), client.describe()).toEqual(expected.map(summary));
}

export async function expectPongs(client: RawClient, expected: Buffer[], timeoutMs = WAIT_MS): Promise<void> {
  await client.waitUntil(() => client.pongs().length >= expected.length || client.tcpClosed, timeoutMs);
  expect(client.pongs().map((p) => p.toString('hex')), client.describe()).toEqual(expected.map((p) => p.toString('hex')));
}

/** We start the closing handshake with `code`; the server must answer with a close frame carrying
 *  `expectCode` (undefined: an empty close frame; an array: any of these) and then close TCP. */
export async function expectCleanClose(
  client: RawClient,
  code: number | undefined = 1000,
  expectCode: number | undefined | (number | undefined)[] = code,
): Promise<void> {
  client.sendClose(code);
  const closed = await client.waitForTcpClose(WAIT_MS);
  const frame = client.closeFrame();
  expect(frame, `no close frame from the server: ${client.describe()}`).toBeDefined();
  const allowed = Array.isArray(expectCode) ? expectCode : [expectCode];
  expect(allowed, `server close code ${frame?.code}: ${client.describe()}`).toContain(frame?.code);
  expect(closed, `server did not close TCP after the close handshake: ${client.describe()}`).toBe(true);
  expect(client.violations()).toEqual([]);
}

export interface FailureOptions {
  timeoutMs?: number;
}

/** The server must fail the connection: a close frame with `code` (or one of them), then TCP closed. */
export async function expectFailure(client: RawClient, code: number | number[], options: FailureOptions = {}): Promise<void> {
  const closed = await client.waitForTcpClose(options.timeoutMs ?? WAIT_MS);
  expect(closed, `server did not close the connection: ${client.describe()}`).toBe(true);
  const frame = client.closeFrame();
  const allowed = Array.isArray(code) ? code : [code];
  expect(allowed, `expected close ${allowed.join(' or ')}: ${client.describe()}`).toContain(frame?.code);
  expect(client.violations()).toEqual([]);
}

/** Opens a connection, runs `body`, always releases the socket. */
export async function withClient(options: OpenOptions, body: (client: RawClient) => Promise<void>): Promise<void> {
  const client = await openWebSocket(options);
  try {
    await body(client);
  } finally {
    client.destroy();
  }
}
