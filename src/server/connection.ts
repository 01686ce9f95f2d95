// One WebSocket connection: socket ⇄ sans-I/O decoder/encoder ⇄ handler.
// The same object is the handler's PendingConnection during onConnect and its Connection after.
import type { Socket } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { WsgateError } from '../errors.js';
import { countDataFrames, createHixieDecoder, createHybiDecoder, headerValue, hixieEncoder, hybiEncoder, negotiatePerMessageDeflate } from '../protocol/index.js';
import type { EndpointSettings } from '../config/model.js';
import type { Decoder, DecoderSink, Encoder, ProtocolVersion } from '../protocol/types.js';
import type { ClientCertificate, EncodedFrameSink, Handler, HandshakeRequest, MessageData, PendingConnection } from '../plugins/types.js';
import type { DeferredFrame, SharedDeflates } from '../registry/local.js';
import { CompressionSession, InflatingSink, OrderedOutput } from './compression.js';
import type { EndpointRuntime } from './endpoint.js';
import type { KeepaliveTarget } from './keepalive.js';
import type { ConnectionCounters, HandlerCallback } from './stats.js';
import { MESSAGE_OVERHEAD, SendQueue } from './send-queue.js';
import { outputScheduler, type ScheduledOutput } from './output-scheduler.js';
import { NODE_READ_SIZE, type SharedReads } from './shared-read.js';

export enum ConnectionState {
  /** Handshake in progress: onConnect may choose a protocol, set headers, reject. */
  Pending,
  Open,
  /** A close frame was sent or received; waiting for the other side and for TCP to end. */
  Closing,
  Closed,
}

/** What the connection needs from the gateway around it. */
export interface ConnectionHost {
  register(conn: WsConnection): void;
  unregister(conn: WsConnection): void;
  joinGroup(conn: WsConnection, group: string): void;
  leaveGroup(conn: WsConnection, group: string): void;
  /** onDisconnect returned a promise (the native adapter does): shutdown awaits it. */
  trackDisconnect(done: Promise<void>): void;
  readonly keepalive: { add(t: KeepaliveTarget, seconds: number): void; remove(t: KeepaliveTarget, seconds: number): void };
  /** A handler callback threw or its promise rejected (the metrics count it). */
  countHandlerError(conn: WsConnection, callback: HandlerCallback): void;
  /** The buffer plain TCP sockets read into. */
  readonly reads: SharedReads;
}

export interface ConnectionInit {
  id: string;
  path: string;
  /** The query string without '?'; parsed only if a handler asks. */
  search: string;
  headers: IncomingHttpHeaders;
  remoteAddress: string;
  remotePort: number;
  version: ProtocolVersion;
  location: string;
  protocols: readonly string[];
  origin: string | undefined;
  /** The handshake as received (native plugins' request_rec); optional for callers that lack it. */
  request?: HandshakeRequest;
  /** A verified client certificate (wss:// with SSLVerifyClient). */
  clientCertificate?: ClientCertificate;
  /** The endpoint whose connection count this connection holds until it is closed. */
  endpoint: EndpointRuntime;
  host: ConnectionHost;
  baseLog: Logger;
}

const EMPTY = Buffer.alloc(0);
// Writes are held (the socket corked) while the code that makes them runs, and leave together in
// one writev: during a read's handling (a JS handler's replies, a C plugin's batch), and, for frames
// written outside a read (a C plugin's records the pump hands over after their read, a handler's
// sends from a timer, pushes), until the tick's end: one process.nextTick releases every socket held
// meanwhile. 1,700 replies then leave in a few writev calls instead of 1,700 writes; a lone frame is
// not delayed (the read's handling ends, or the tick runs, before the event loop goes on).
// While holding, frames go to the socket past the usual high-water mark up to one read's size
// beyond what it held before (`readSize`: a read's echoes leave in one writev): then what it holds
// is written and holding starts over. And up to HELD_FRAMES frames (each is a write request of its
// own in the socket): more wait in the send queue, which joins them.
const HELD_FRAMES = 256;
const heldUntilTick: WsConnection[] = [];

/** Who may hold a connection's reading: all must let go before it reads again. */
const enum InputHold {
  /** Inflated messages wait to be delivered (InflatingSink). */
  Inflate = 1,
  /** The handler's pause(). */
  Handler = 2,
  /** The connection read its share of this turn of the event loop (FULL_READS_PER_TURN). */
  Turn = 4,
}

/** libuv reads a socket again at once while reads come back full, up to 32 times: with 256 KiB
 *  reads one peer streaming large messages could take 8 MiB of the loop's turn while every other
 *  connection waited (a 32 B echo's p99 next to two 1 MiB streams: 13-16 ms; 2.5-5 ms with this).
 *  A connection whose reads come back full this many times in one turn stops reading until the
 *  turn's check phase (1 MiB with 256 KiB reads). */
const FULL_READS_PER_TURN = 4;
/** Counts turns of the event loop in which some connection made a full read; each such turn ends
 *  in its check phase (endReadTurn), which sends the replies a full read carried (no read followed
 *  it) and lets the connections that had their share read on. */
let readTurn = 0;
let readTurnEnding = false;
const carriedToNextRead: WsConnection[] = [];
const heldForTurnEnd: WsConnection[] = [];

function endReadTurn(): void {
  readTurn++;
  readTurnEnding = false;
  for (const conn of carriedToNextRead.splice(0)) conn.releaseCarriedWrites();
  for (const conn of heldForTurnEnd.splice(0)) conn.turnEnded();
}

function releaseHeldSockets(): void {
  for (const conn of heldUntilTick.splice(0)) conn.releaseWrites();
}

const NO_HEADERS: ReadonlyArray<[string, string]> = [];

// Socket listeners are shared functions that find their connection on the socket, rather than
// closures per connection: idle connections are the thing to keep small.
const kConnection = Symbol('wsgate.connection');
type OwnedSocket = Socket & { [kConnection]: WsConnection };

function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  this[kConnection].receive(chunk);
}

function onSocketLentRead(this: OwnedSocket, read: Buffer): void {
  this[kConnection].receiveShared(read);
}

/** The peer half-closed TCP: finish our side too (a close frame may or may not have come first). */
function onSocketEnd(this: Socket): void {
  this.end();
}

function onSocketClose(this: OwnedSocket): void {
  this[kConnection].finish();
}

function onSocketDrain(this: OwnedSocket): void {
  this[kConnection].socketDrained();
}

function closeTimedOut(conn: WsConnection): void {
  conn.closeTimedOut();
}
const NO_GROUPS: ReadonlySet<string> = new Set<string>();
/** Keepalive visits come one interval apart give or take a timer's rounding: "a whole interval" allows for that. */
const KEEPALIVE_SLACK = 0.97;

function toBuffer(data: MessageData | undefined): Buffer {
  if (data === undefined) return EMPTY;
  return typeof data === 'string' ? Buffer.from(data) : data;
}

export class WsConnection implements PendingConnection, DecoderSink, KeepaliveTarget, ScheduledOutput, EncodedFrameSink {
  readonly id: string;
  readonly path: string;
  private readonly search: string;
  private parsedQuery: URLSearchParams | undefined;
  private readonly connectedAtMs = Date.now();
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly version: ProtocolVersion;
  readonly location: string;
  readonly protocols: readonly string[];
  readonly origin: string | undefined;
  readonly request: HandshakeRequest | undefined;
  readonly clientCertificate: ClientCertificate | undefined;
  readonly settings: EndpointSettings;
  readonly endpoint: EndpointRuntime;
  state: unknown = undefined;
  connState = ConnectionState.Pending;

  // Set during onConnect, read by the handshake.
  protocol = '';
  responseHeaders: ReadonlyArray<[string, string]> = NO_HEADERS;
  rejection: { status: number; reason: string } | undefined;

  private groupSet: Set<string> | undefined;
  private readonly handler: Handler;
  private readonly host: ConnectionHost;
  private readonly baseLog: Logger;
  private childLog: Logger | undefined;
  private socket: Socket | undefined;
  private decoder: Decoder | undefined;
  private encoder: Encoder | undefined;
  /** permessage-deflate, when negotiated; then every write goes through `output`, in order. */
  private compression: CompressionSession | undefined;
  private output: OrderedOutput | undefined;
  private inflating: InflatingSink | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  /** The peer's close frame, or the code we failed the connection with. */
  private closeCode = 1006;
  private closeReason = '';
  private closeKnown = false;
  /** handler.onClosing was called (once per connection). */
  private closingAnnounced = false;
  /** When the unanswered keepalive ping was written; 0 = none outstanding. */
  private pingSentAtMs = 0;
  /** Something arrived since the last keepalive visit (or since the ping). */
  private heardSinceVisit = false;
  /** bytesOut at the last keepalive visit: what was written since may still sit in the kernel's buffers. */
  private bytesOutAtVisit = 0;
  /** Frames the socket is not holding yet (made on the first write that finds the socket full). */
  private queue: SendQueue | undefined;
  /** end() was asked for while frames still wait in `queue`. */
  private endAfterQueue = false;
  /** In the output scheduler's line (broadcast frames wait in `queue` for their slice). */
  outputScheduled = false;
  /** socket.writableLength when the socket began holding writes (a read's handling, or the rest
   *  of a tick); -1: not holding. */
  private holdStartLength = -1;
  /** Frames handed to the socket while holding. */
  private heldFrames = 0;
  /** The writes held for the last read wait for the next read's (see receive()). */
  private writesCarried = false;
  /** The most one socket read brings: a read's replies are held up to this many bytes. */
  private readSize = NODE_READ_SIZE;
  /** Reads are kept in the gateway's spare buffer (SharedReads.lendInto): the handler says when
   *  it released their messages, and no inflater holds compressed pieces of them. */
  private keepsReadsInSpare = false;
  /** The last read could not be given back (see receiveShared). */
  private lastReadKept = false;
  /** Who holds reading (InputHold bits); 0: the socket reads. */
  private inputHeldBy = 0;
  /** Full reads in turn `fullReadTurn` (see FULL_READS_PER_TURN). */
  private fullReads = 0;
  private fullReadTurn = -1;
  // For the connection log's closing line: bytes on the wire and whole messages, each way
  // (plain counters: nothing per message beyond an increment).
  private bytesIn = 0;
  private bytesOut = 0;
  private messagesIn = 0;
  private messagesOut = 0;
  /** Codes of the close frames written and received (1005: a close without a code); undefined = none. */
  private closeSent: number | undefined;
  private closeReceived: number | undefined;
  /** Who started the end: the side of the first close frame, else the side that dropped TCP. */
  private closedBy: 'client' | 'server' | undefined;

  constructor(init: ConnectionInit) {
    this.id = init.id;
    this.path = init.path;
    this.search = init.search;
    this.headers = init.headers;
    this.remoteAddress = init.remoteAddress;
    this.remotePort = init.remotePort;
    this.version = init.version;
    this.location = init.location;
    this.protocols = init.protocols;
    this.origin = init.origin;
    this.request = init.request;
    this.clientCertificate = init.clientCertificate;
    this.endpoint = init.endpoint;
    this.settings = init.endpoint.config.settings;
    this.handler = init.endpoint.handler;
    this.host = init.host;
    this.baseLog = init.baseLog;
  }

  /** Created on first use: most connections never log, and a child logger per idle socket costs memory. */
  get log(): Logger {
    return (this.childLog ??= this.baseLog.child({ conn: this.id, path: this.path, remote: this.remoteAddress }));
  }

  /** A connection-log line: the child logger's fields, without creating (and keeping) one just for it. */
  private logInfo(fields: object, message: string): void {
    if (this.childLog !== undefined) this.childLog.info(fields, message);
    else this.baseLog.info({ conn: this.id, path: this.path, remote: this.remoteAddress, ...fields }, message);
  }

  get query(): URLSearchParams {
    return (this.parsedQuery ??= new URLSearchParams(this.search));
  }

  get connectedAt(): Date {
    return new Date(this.connectedAtMs);
  }

  get groups(): ReadonlySet<string> {
    return this.groupSet ?? NO_GROUPS;
  }

  get isOpen(): boolean {
    return this.connState === ConnectionState.Open;
  }

  get isHixie(): boolean {
    return this.version === 'hixie-76' || this.version === 'hixie-75';
  }

  /** The connection log's counters and how it ended so far, for metrics: read at close and at
   *  scrape time, so nothing is added per message. */
  get counters(): ConnectionCounters {
    const { messagesIn, bytesIn, messagesOut, bytesOut, closeSent, closeReceived, closedBy, closeReason } = this;
    return { messagesIn, bytesIn, messagesOut, bytesOut, closeSent, closeReceived, closedBy, closeReason };
  }

  // ---- PendingConnection (only meaningful during onConnect) ----

  selectProtocol(protocol: string): void {
    if (this.connState !== ConnectionState.Pending) return;
    // RFC 6455 §4.2.2: the answer must be one the client offered; browsers fail the connection otherwise.
    if (!this.protocols.includes(protocol)) {
      throw new WsgateError('HANDLER_FAILED', `subprotocol '${protocol}' was not offered by the client (offered: ${this.protocols.join(', ') || 'none'})`, {
        status: 500,
      });
    }
    this.protocol = protocol;
  }

  setHeader(name: string, value: string): void {
    if (this.connState !== ConnectionState.Pending) return;
    const lower = name.toLowerCase();
    this.responseHeaders = [...this.responseHeaders.filter(([n]) => n.toLowerCase() !== lower), [name, value]];
  }

  reject(status = 403, reason = 'Forbidden'): void {
    if (this.connState === ConnectionState.Pending) this.rejection ??= { status, reason };
  }

  /** The Sec-WebSocket-Extensions answer for the 101 (hybi only): permessage-deflate when this
   *  Location has WebSocketCompression On and the client offered something acceptable. */
  acceptExtensions(): Array<[string, string]> {
    const settings = this.settings;
    if (!settings.compression || this.isHixie) return [];
    const offer = headerValue(this.headers, 'sec-websocket-extensions');
    const agreed = negotiatePerMessageDeflate(offer, { contextTakeover: settings.compressionContextTakeover, maxWindowBits: settings.compressionWindowBits });
    if (agreed === undefined) return [];
    this.compression = new CompressionSession(agreed.params, settings.compressionThreshold);
    return [['Sec-WebSocket-Extensions', agreed.response]];
  }

  // ---- opening ----

  /** Called right after the 101 was written. `rest` = bytes that followed the handshake. */
  attach(socket: Socket, rest: Buffer): void {
    this.socket = socket;
    this.encoder = this.isHixie ? hixieEncoder : hybiEncoder;
    if (this.compression !== undefined) this.output = new OrderedOutput(this);
    this.connState = ConnectionState.Open;
    this.host.register(this);
    (socket as OwnedSocket)[kConnection] = this;
    const buffered = this.host.reads.attach(socket as OwnedSocket, onSocketLentRead);
    if (buffered === undefined) socket.on('data', onSocketData);
    else {
      this.readSize = this.host.reads.size;
      this.keepsReadsInSpare = this.handler.releasedMessages !== undefined && this.compression === undefined;
    }
    socket.on('end', onSocketEnd);
    socket.on('close', onSocketClose);
    socket.on('drain', onSocketDrain);
    if (!this.isHixie) this.host.keepalive.add(this, this.settings.pingInterval);
    if (this.settings.connectionLog) this.logInfo({ version: this.version, protocol: this.protocol || undefined, clientCertificate: this.clientCertificate?.subject }, 'connected');
    if (rest.length > 0) this.receive(rest);
    if (buffered !== undefined && buffered.length > 0) this.receive(buffered);
    // Unless the handler paused it meanwhile.
    if (this.inputHeldBy === 0 && !socket.destroyed) socket.resume();
  }

  /** Made on the first bytes received: an idle connection (the common case for push) never needs one. */
  private createDecoder(): Decoder {
    const maxMessageSize = this.settings.maxMessageSize;
    if (this.isHixie) return createHixieDecoder(this, { maxMessageSize });
    // Versions 7 and 8 predate 1009: their drafts used 1004 for "too big".
    const tooBigCloseCode = this.version === 13 ? 1009 : 1004;
    const compression = this.compression;
    const sink = compression === undefined ? this : (this.inflating = new InflatingSink(this, compression, maxMessageSize, tooBigCloseCode));
    return createHybiDecoder(sink, {
      maxMessageSize,
      tooBigCloseCode,
      requireMask: true,
      allowReservedStatusCodes: this.settings.allowReservedStatusCodes,
      perMessageDeflate: compression !== undefined,
    });
  }

  /** InflatingSink: hold the socket while inflated messages wait to be delivered. */
  pauseInput(): void {
    this.holdInput(InputHold.Inflate);
  }

  resumeInput(): void {
    this.releaseInput(InputHold.Inflate);
  }

  /** The handler's flow control (conn.pause()/resume()). */
  pause(): void {
    this.holdInput(InputHold.Handler);
  }

  resume(): void {
    this.releaseInput(InputHold.Handler);
  }

  private holdInput(hold: InputHold): void {
    this.inputHeldBy |= hold;
    this.socket?.pause();
  }

  /** Reading goes on once neither the handler nor the inflater holds it. */
  private releaseInput(hold: InputHold): void {
    this.inputHeldBy &= ~hold;
    if (this.inputHeldBy === 0 && this.socket !== undefined && !this.socket.destroyed) this.socket.resume();
  }

  /** One socket read's bytes; with `into`, they are lent for the call and kept in `into` (see
   *  Decoder.push). A read of `readSize` took all the room it had, and libuv reads the socket again
   *  at once (it goes on while reads come back full): its replies wait for the next read's and both
   *  leave in one writev. The check phase of the same loop turn releases them if no read follows
   *  (the read had been exactly that size). */
  receive(chunk: Buffer, into?: Buffer): void {
    this.heardSinceVisit = true;
    this.bytesIn += chunk.length;
    const handler = this.handler;
    // The replies made while this read is handled leave together once it is (see HELD_FRAMES);
    // when the socket already holds this tick's writes, the tick's release covers them.
    const socket = this.socket;
    const carried = this.writesCarried;
    this.writesCarried = false;
    const holds = socket !== undefined && (carried || this.holdStartLength < 0);
    if (holds && !carried) this.holdWrites(socket);
    if (handler.onReadStart !== undefined) this.callReadHook(handler.onReadStart);
    try {
      (this.decoder ??= this.createDecoder()).push(chunk, into);
    } catch (err) {
      // The codec promises not to throw; if it does, this connection ends, not the process.
      this.log.error({ err }, 'decoder failed');
      this.fail(1011, 'internal error');
    }
    if (handler.onReadEnd !== undefined) this.callReadHook(handler.onReadEnd);
    const full = chunk.length >= this.readSize;
    if (full) this.countFullRead();
    if (!holds) return;
    // Carried once at most: a peer streaming megabytes still gets its replies every two reads.
    if (full && !carried && this.socket !== undefined) {
      this.writesCarried = true;
      carriedToNextRead.push(this);
    } else this.releaseWrites();
  }

  /** A read into the gateway's shared buffer (lent for the call), kept in new memory, or in the
   *  gateway's spare when the handler releases its messages; the spare serves the next read too
   *  when nothing refers to this one's bytes once it is handled. */
  receiveShared(read: Buffer): void {
    // After a read that could not be given back (a message spanning reads, replies waiting for a
    // slow reader) the next one likely cannot either: it gets memory of its own size, rather than
    // a spare of up to twice that, so what such a connection keeps alive is what it read.
    const reads = this.host.reads;
    const lent = this.keepsReadsInSpare && !this.lastReadKept;
    this.receive(read, lent ? reads.lendInto(read.length) : Buffer.allocUnsafe(read.length));
    if (!this.keepsReadsInSpare) return;
    const released = this.readReleased();
    if (lent) reads.settleInto(released);
    this.lastReadKept = !released;
  }

  /** Nothing refers to the last read's bytes: the decoder keeps none of them, the handler says
   *  it keeps none, and the replies made of them left (the socket took them: its stream holds no
   *  bytes, our send queue none). */
  private readReleased(): boolean {
    const socket = this.socket;
    if (socket === undefined || socket.destroyed || socket.writableLength !== 0 || (this.queue?.length ?? 0) > 0) return false;
    if (this.decoder === undefined || this.decoder.holdsInput()) return false;
    try {
      return this.handler.releasedMessages?.(this) === true;
    } catch (err) {
      this.handlerFailed(err, 'releasedMessages');
      return false;
    }
  }

  /** A full read: libuv reads this socket again at once, unless it has had its share of the turn.
   *  The turn's end is scheduled here for the carried replies too. */
  private countFullRead(): void {
    if (!readTurnEnding) {
      readTurnEnding = true;
      setImmediate(endReadTurn);
    }
    if (this.fullReadTurn !== readTurn) {
      this.fullReadTurn = readTurn;
      this.fullReads = 0;
    }
    if (++this.fullReads < FULL_READS_PER_TURN || (this.inputHeldBy & InputHold.Turn) !== 0) return;
    this.holdInput(InputHold.Turn);
    heldForTurnEnd.push(this);
  }

  /** The check phase of the turn in which this connection had its share: it reads on. */
  turnEnded(): void {
    this.releaseInput(InputHold.Turn);
  }

  /** No read followed the full one within this turn of the loop: its replies go now. */
  releaseCarriedWrites(): void {
    if (!this.writesCarried) return;
    this.writesCarried = false;
    this.releaseWrites();
  }

  private holdWrites(socket: Socket): void {
    socket.cork();
    this.holdStartLength = socket.writableLength;
    this.heldFrames = 0;
  }

  /** The hold has a read's size in the socket: it goes out now, in one writev, and holding goes on. */
  private writeHeldAndHoldOn(socket: Socket): void {
    socket.uncork();
    this.holdWrites(socket);
  }

  /** The read's handling or the tick is over: what the socket held goes out together. */
  releaseWrites(): void {
    this.holdStartLength = -1;
    const socket = this.socket;
    if (socket === undefined) return;
    socket.uncork();
    // Frames queued only because the hold reached HELD_FRAMES: no write said "full", so no 'drain' will come for them.
    if ((this.queue?.length ?? 0) > 0 && !socket.writableNeedDrain) this.socketDrained();
  }

  /** onReadStart/onReadEnd: a throw ends this connection (1011), as one from onMessage does. */
  private callReadHook(hook: (conn: WsConnection) => void): void {
    try {
      hook.call(this.handler, this);
    } catch (err) {
      this.handlerFailed(err, hook === this.handler.onReadEnd ? 'onReadEnd' : 'onReadStart');
    }
  }

  // ---- DecoderSink ----

  onMessage(data: Buffer, isBinary: boolean): void {
    this.messagesIn++;
    // After our own close frame, messages the peer sent before its close still arrive (as in mod_websocket).
    if (this.connState !== ConnectionState.Open && this.connState !== ConnectionState.Closing) return;
    const onMessage = this.handler.onMessage;
    if (onMessage === undefined) return;
    try {
      const result = onMessage.call(this.handler, this, data, isBinary);
      if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(undefined, (err: unknown) => this.handlerFailed(err, 'onMessage'));
      }
    } catch (err) {
      this.handlerFailed(err, 'onMessage');
    }
  }

  onPing(data: Buffer): void {
    if (this.connState !== ConnectionState.Open) return;
    const frame = this.encoder!.pong(data);
    if (frame) this.writeFrame(frame);
  }

  onPong(_data: Buffer): void {
    // The answer to our ping is not activity of its own: an idle peer is pinged again one interval
    // later, so a proxy in front never sees more than an interval of silence.
    this.pingSentAtMs = 0;
    this.heardSinceVisit = false;
  }

  onClose(code: number, reason: string): void {
    this.recordClose(code, reason);
    this.closeReceived = code;
    this.closedBy ??= 'client';
    if (this.connState === ConnectionState.Open) {
      // Echo the peer's code (none when it sent none), then let the server close TCP first (RFC 6455 §7.1.1).
      if (this.beginClosing()) this.writeClose(this.encoder!.close(code === 1005 ? undefined : code), code);
    }
    this.endSocket();
  }

  onError(error: WsgateError): void {
    const code = error.closeCode ?? 1002;
    this.log.debug({ code, err: error.message }, 'protocol error');
    this.fail(code, error.message);
  }

  // ---- Connection ----

  send(data: MessageData, isBinary?: boolean): boolean {
    if (this.connState !== ConnectionState.Open) return false;
    const binary = isBinary ?? typeof data !== 'string';
    const payload = toBuffer(data);
    return this.writeFrame(this.frameFor(payload, binary) ?? this.encoder!.message(payload, binary));
  }

  get sendsPlainFrames(): boolean {
    return !this.isHixie && this.compression === undefined;
  }

  /** A native plugin's replies, framed by its helper: as `count` send() calls, in one write. */
  sendFrames(frames: Buffer, count: number): boolean {
    if (this.connState !== ConnectionState.Open || !this.writeFrame([frames])) return false;
    // writeNow counted the chunk as one message.
    this.messagesOut += count - 1;
    return true;
  }

  /** A deflated frame still to be made, when this message goes out compressed; undefined = plain.
   *  `shared`: a broadcast's deflates, reused when this connection's parameters allow. */
  frameFor(payload: Buffer, isBinary: boolean, shared?: SharedDeflates): DeferredFrame | undefined {
    return this.compression?.deflateJob(payload, isBinary, shared);
  }

  ping(data?: MessageData): boolean {
    if (this.connState !== ConnectionState.Open) return false;
    const frame = this.encoder!.ping(toBuffer(data));
    return frame !== undefined && this.writeFrame(frame);
  }

  pong(data?: MessageData): boolean {
    if (this.connState !== ConnectionState.Open) return false;
    const frame = this.encoder!.pong(toBuffer(data));
    return frame !== undefined && this.writeFrame(frame);
  }

  close(code?: number, reason?: string): void {
    if (this.connState === ConnectionState.Pending) {
      this.reject(403, reason ?? 'Forbidden');
      return;
    }
    if (this.connState !== ConnectionState.Open) return;
    // Encode first: an invalid code throws to the caller before anything changes.
    const frame = this.encoder!.close(code, reason);
    if (this.beginClosing()) this.writeClose(frame, code);
  }

  join(group: string): void {
    if (this.connState === ConnectionState.Closed) return;
    (this.groupSet ??= new Set()).add(group);
    if (this.connState !== ConnectionState.Pending) this.host.joinGroup(this, group);
  }

  leave(group: string): void {
    if (!this.groupSet?.delete(group)) return;
    if (this.connState !== ConnectionState.Pending) this.host.leaveGroup(this, group);
  }

  // ---- internals ----

  /** Write one encoded frame (header + payload chunks). Also used by broadcast with a shared encoding.
   *  False when nothing was written: the socket is gone, the framing has no such frame, or a slow reader still has more than
   *  sendQueueLimit queued from earlier sends, counted as bytes plus MESSAGE_OVERHEAD per waiting message (then the
   *  connection is closed with 1008). Checking before the write lets one message larger than the limit through.
   *  `queued` (broadcast): the frame joins the send queue and the output scheduler writes it in its slices;
   *  whatever is written to this connection meanwhile goes behind it. */
  writeFrame(frame: Buffer[] | DeferredFrame, queued = false): boolean {
    const socket = this.socket;
    // No chunks: the framing cannot carry this message (binary data on hixie).
    if (socket === undefined || socket.destroyed || (Array.isArray(frame) && frame.length === 0)) return false;
    if (this.connState === ConnectionState.Open && this.queuedCost() > this.settings.sendQueueLimit) {
      // Broadcast frames still waiting for their slice are not the reader's doing: the socket gets
      // what it takes first, and only what it refuses counts against the reader, as before slicing.
      if (this.outputScheduled) this.socketDrained();
      if (this.queuedCost() > this.settings.sendQueueLimit) {
        this.sendQueueOverflow();
        return false;
      }
    }
    // A compressed connection's deflate jobs keep their order: the frame waits in their line, and a
    // queued one goes to the send queue when its turn comes (the deflate jobs of one broadcast finish
    // together: every recipient writing in that same microtask run would block the loop as unsliced
    // broadcasts did).
    const output = this.output;
    if (output !== undefined) output.write(frame, queued);
    else if (queued) this.queueFrame(frame as Buffer[]);
    else this.writeNow(frame as Buffer[]);
    return true;
  }

  /** writeNow's queueing half, for a broadcast (OrderedOutput too): no socket write here, the
   *  scheduler's slice does it. */
  queueFrame(chunks: Buffer[]): void {
    if (this.isDataFrame(chunks[0]!)) this.messagesOut++;
    (this.queue ??= new SendQueue()).push(chunks);
    for (const chunk of chunks) this.bytesOut += chunk.length;
    outputScheduler.add(this);
  }

  /** The output scheduler's visit: what the socket has room for goes now, the rest on 'drain'. */
  flushScheduled(): void {
    this.socketDrained();
  }

  /** What waits to be sent, as memory: the socket's bytes, ours with their per-message overhead,
   *  and the frames still being deflated (their uncompressed size, likewise with overhead). */
  private queuedCost(): number {
    const output = this.output;
    return (this.socket?.writableLength ?? 0) + (this.queue?.cost ?? 0) + (output === undefined ? 0 : output.queuedBytes + output.queuedCount * MESSAGE_OVERHEAD);
  }

  /** Nothing waits to be sent: the socket, our queue and the deflate queue are empty. */
  private outputIdle(): boolean {
    return (this.socket?.writableLength ?? 0) === 0 && (this.queue?.length ?? 0) === 0 && (this.output?.queuedCount ?? 0) === 0;
  }

  /** OrderedOutput: the frame's turn has come. Straight to the socket while it has room and
   *  nothing waits before it; otherwise into the send queue, written when the socket drains. */
  writeNow(chunks: Buffer[]): void {
    const socket = this.socket;
    if (socket === undefined || socket.destroyed) return;
    // A data frame (not ping, pong or close) is a message: RFC 6455 opcodes below 8, hixie's 0x00 text frame.
    const first = chunks[0]!;
    if (this.isDataFrame(first)) this.messagesOut++;
    const queue = this.queue;
    if (this.holdStartLength >= 0 && (queue === undefined || queue.length === 0) && socket.writableLength - this.holdStartLength >= this.readSize) {
      this.writeHeldAndHoldOn(socket);
    }
    if ((queue !== undefined && queue.length > 0) || this.socketFull(socket)) {
      (this.queue ??= new SendQueue()).push(chunks);
      for (const chunk of chunks) this.bytesOut += chunk.length;
      return;
    }
    if (this.holdStartLength < 0) {
      this.holdWrites(socket);
      if (heldUntilTick.push(this) === 1) process.nextTick(releaseHeldSockets);
    }
    this.heldFrames++;
    if (chunks.length === 1) {
      socket.write(first);
      this.bytesOut += first.length;
    } else {
      socket.cork();
      for (const chunk of chunks) {
        socket.write(chunk);
        this.bytesOut += chunk.length;
      }
      socket.uncork();
    }
  }

  /** The socket holds enough: what the kernel has not taken (the socket's own bytes, not Node's
   *  needDrain flag, which stays up after a write the kernel took at once until the next tick) is at
   *  the high-water mark; while holding, HELD_FRAMES frames may be added first (writeNow() writes
   *  a read's size at a time). A socket reported full on bytes has had a write() return false, so
   *  'drain' follows; releaseWrites() flushes what the frame count alone held back. */
  private socketFull(socket: Socket): boolean {
    const start = this.holdStartLength;
    if (start < 0) return socket.writableLength >= socket.writableHighWaterMark;
    return start >= socket.writableHighWaterMark || this.heldFrames >= HELD_FRAMES;
  }

  /** Messages in a queued entry: its one frame's, or a native plugin's framed replies (sendFrames:
   *  whole frames in one chunk). */
  private dataFramesIn(entry: Buffer[]): number {
    if (this.isHixie || entry.length > 1) return this.isDataFrame(entry[0]!) ? 1 : 0;
    return countDataFrames(entry[0]!);
  }

  private isDataFrame(first: Buffer): boolean {
    return this.isHixie ? first[0] === 0x00 : (first[0]! & 0x08) === 0;
  }

  /** The socket took what it held: hand it what waits, then end TCP if that was asked for. */
  socketDrained(): void {
    const socket = this.socket;
    const queue = this.queue;
    if (socket === undefined || socket.destroyed || queue === undefined) return;
    queue.flushTo(socket);
    // Every broadcast recipient gets a queue for a moment; an idle connection keeps none.
    if (queue.length === 0) this.queue = undefined;
    if (queue.length === 0 && this.endAfterQueue) {
      this.endAfterQueue = false;
      socket.end();
    }
  }

  /** Ends TCP after the frames still being deflated and those in the send queue. */
  private endSocket(): void {
    if (this.output !== undefined) this.output.end();
    else this.endNow();
  }

  /** OrderedOutput: everything before the end is handed over. */
  endNow(): void {
    if ((this.queue?.length ?? 0) > 0) this.endAfterQueue = true;
    else this.socket?.end();
  }

  /** OrderedOutput: a deflate job failed (zlib out of memory): this connection cannot go on. */
  outputFailed(err: unknown): void {
    this.log.error({ err }, 'compression failed');
    this.fail(1011, 'internal error');
  }

  /** writeFrame for our close frame; `code` undefined = a close without a code. */
  private writeClose(chunks: Buffer[], code: number | undefined): void {
    this.closeSent = code ?? 1005;
    this.closedBy ??= 'server';
    this.writeFrame(chunks);
  }

  /** A reader too slow for what we send: what the socket does not hold yet is dropped (whole
   *  frames: the peer gets a prefix of the messages), then the 1008 close goes right behind what it
   *  holds, so a peer that reads on sees why; TCP is dropped after closeTimeout whatever happens. */
  private sendQueueOverflow(): void {
    this.log.warn({ queued: this.queuedCost(), limit: this.settings.sendQueueLimit }, 'send queue limit exceeded');
    this.recordClose(1008, 'send queue limit exceeded');
    this.dropQueued();
    if (this.beginClosing()) {
      // What the handler sent while hearing of the close (onClosing) is not what the peer should wait behind either.
      this.dropQueued();
      this.writeClose(this.safeCloseFrame(1008, 'send queue limit exceeded'), 1008);
    }
  }

  /** Forgets the frames not yet handed to the socket (and the deflate jobs), uncounting them. */
  private dropQueued(): void {
    this.output?.clear();
    this.endAfterQueue = false;
    const queue = this.queue;
    if (queue === undefined) return;
    for (const frame of queue.drop()) {
      this.messagesOut -= this.dataFramesIn(frame);
      for (const chunk of frame) this.bytesOut -= chunk.length;
    }
  }

  /** Fail the connection (protocol or internal error): close frame, then end TCP at once. */
  private fail(code: number, reason: string): void {
    this.recordClose(code, reason);
    if (this.connState === ConnectionState.Open && this.beginClosing()) this.writeClose(this.safeCloseFrame(code, reason), code);
    this.endSocket();
  }

  /** A close frame for a code the gateway chose; if the encoder refuses the code, an empty close (peer sees 1005). */
  private safeCloseFrame(code: number, reason: string): Buffer[] {
    try {
      return this.encoder!.close(code, reason);
    } catch (err) {
      this.log.error({ err, code }, 'cannot encode close frame');
      return this.encoder!.close();
    }
  }

  /** What onDisconnect will report: the first of the peer's close frame or our own failure code. */
  private recordClose(code: number, reason: string): void {
    if (this.closeKnown) return;
    this.closeKnown = true;
    this.closeCode = code;
    this.closeReason = reason;
  }

  /** Open → Closing; true when this call made the change, so the caller writes its close frame.
   *  The handler hears it first, while sends still work: what it held back (the native adapter's
   *  batch of messages) is answered before our close frame. If the handler closes the connection
   *  itself meanwhile, its close stands and this call does nothing more. */
  private beginClosing(): boolean {
    if (this.connState !== ConnectionState.Open) return false;
    if (this.handler.onClosing !== undefined && !this.closingAnnounced) {
      this.closingAnnounced = true;
      try {
        this.handler.onClosing(this);
      } catch (err) {
        this.log.error({ err }, 'handler onClosing failed');
        this.host.countHandlerError(this, 'onClosing');
      }
      if (this.connState !== ConnectionState.Open) return false;
    }
    this.connState = ConnectionState.Closing;
    this.closeTimer = setTimeout(closeTimedOut, this.settings.closeTimeout * 1000, this);
    this.closeTimer.unref();
    return true;
  }

  /** The peer did not finish the close handshake in time. */
  closeTimedOut(): void {
    this.log.debug('close timeout: dropping TCP');
    this.closedBy ??= 'server';
    this.socket?.destroy();
  }

  /** Keepalive's visit, once per interval at this connection's own phase. Only an idle connection
   *  is pinged: nothing received and nothing sent for the whole interval, nothing waiting to be
   *  sent (a socket that is taking our data is alive; a ping never joins a queue, so it cannot cause
   *  a 1008, and it does not wait in the kernel behind a transfer, so the pong is due one interval
   *  after the ping was written). */
  keepaliveTick(nowMs: number, intervalMs: number): void {
    if (this.connState !== ConnectionState.Open) return;
    const heard = this.heardSinceVisit;
    this.heardSinceVisit = false;
    const sent = this.bytesOut !== this.bytesOutAtVisit;
    this.bytesOutAtVisit = this.bytesOut;
    if (this.pingSentAtMs !== 0) {
      if (heard) this.pingSentAtMs = 0;
      else if (nowMs - this.pingSentAtMs >= intervalMs * KEEPALIVE_SLACK) {
        this.log.info('keepalive: no pong, dropping');
        this.closedBy ??= 'server';
        this.socket?.destroy();
      }
      return;
    }
    if (heard || sent || nowMs - this.connectedAtMs < intervalMs * KEEPALIVE_SLACK || !this.outputIdle()) return;
    const frame = this.encoder!.ping(EMPTY);
    if (!frame) return;
    this.pingSentAtMs = nowMs;
    this.writeNow(frame);
    this.bytesOutAtVisit = this.bytesOut;
  }

  private handlerFailed(err: unknown, callback: HandlerCallback): void {
    this.log.error({ err, callback }, 'handler failed');
    this.host.countHandlerError(this, callback);
    if (this.connState === ConnectionState.Open) this.close(1011, 'handler error');
  }

  /** Destroy the socket without a close handshake (shutdown after the grace period). */
  destroy(): void {
    this.closedBy ??= 'server';
    this.socket?.destroy();
  }

  /** TCP is gone: unregister and tell the handler, exactly once. */
  finish(): void {
    if (this.connState === ConnectionState.Closed) return;
    this.connState = ConnectionState.Closed;
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.host.keepalive.remove(this, this.settings.pingInterval);
    this.host.unregister(this);
    this.inflating?.stop();
    this.output?.clear();
    this.queue?.drop();
    this.compression?.close();
    if (this.settings.connectionLog) this.logClosed();
    this.notifyDisconnect(this.closeCode, this.closeReason);
  }

  /** The connection log's closing line. `code`/`reason` are what onDisconnect hears (1006: no close frame). */
  private logClosed(): void {
    this.logInfo(
      {
        durationMs: Date.now() - this.connectedAtMs,
        code: this.closeCode,
        reason: this.closeReason || undefined,
        closeSent: this.closeSent,
        closeReceived: this.closeReceived,
        // Neither side sent a close frame and we did not drop it: the client went away.
        closedBy: this.closedBy ?? 'client',
        messagesIn: this.messagesIn,
        bytesIn: this.bytesIn,
        messagesOut: this.messagesOut,
        bytesOut: this.bytesOut,
      },
      'disconnected',
    );
  }

  /** Also used by the handshake when the client vanished after onConnect accepted it. */
  notifyDisconnect(code: number, reason: string): void {
    this.connState = ConnectionState.Closed;
    const onDisconnect = this.handler.onDisconnect;
    if (onDisconnect === undefined) return;
    try {
      const result = onDisconnect.call(this.handler, this, code, reason);
      if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
        this.host.trackDisconnect(
          (result as Promise<void>).then(undefined, (err: unknown) => {
            this.log.error({ err }, 'onDisconnect failed');
            this.host.countHandlerError(this, 'onDisconnect');
          }),
        );
      }
    } catch (err) {
      this.log.error({ err }, 'onDisconnect failed');
      this.host.countHandlerError(this, 'onDisconnect');
    }
  }
}
