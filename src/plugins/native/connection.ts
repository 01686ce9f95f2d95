// One client connection of a native plugin: the C connection object and the JS Connection it feeds.
import type { Connection, EncodedFrameSink } from '../types.js';
import { pluginClose } from './close-payload.js';
import type { NativeLibrary, NativePointer } from './ffi.js';
import type { Pump } from './pump.js';
import { pinoLevelOf } from './log-levels.js';
import { RecordType, type PluginLogLine, type RecordTarget } from './records.js';

export enum NativeConnectionState {
  /** on_connect accepted; the 101 may not be written yet, so plugin sends wait in C. */
  Accepted,
  Open,
  /** on_disconnect is running on a helper thread. */
  Disconnecting,
  /** The C object is freed. */
  Freed,
}

/** A batch is handed over once it holds this many payload bytes; a message this large goes alone. */
const BATCH_BYTES = 64 * 1024;

export class NativeConnection implements RecordTarget {
  state = NativeConnectionState.Accepted;
  readonly token: number;
  /** The C connection; set by bind() right after the token exists (the C side needs the token). */
  pointer: NativePointer = null;
  private finished: Promise<void> | undefined;
  /** Between readStart and readEnd: messages are collected, not handed over one by one. */
  private reading = false;
  /** The collected messages (a new array per batch: the pump keeps it while replies quote them). */
  private batch: Buffer[] | undefined;
  /** Their types (reused: the pump copies them into the helper's index). */
  private readonly batchTypes: RecordType[] = [];
  private batchBytes = 0;
  /** The memory the batch's messages lie in (their socket read's): a batch is one C call over it. */
  private batchMemory: ArrayBufferLike | undefined;
  private resolveFinished: (() => void) | undefined;
  /** The gateway's connection, when it takes frames the helper encoded (a test double may not). */
  private readonly frameSink: EncodedFrameSink | undefined;
  /** The helper may frame this connection's replies: plain RFC 6455 frames (set once it is open). */
  private framed = false;

  constructor(
    private readonly lib: NativeLibrary,
    private readonly pump: Pump,
    private readonly conn: Connection,
    /** Names the plugin in log lines: `path init`. */
    private readonly plugin: string,
  ) {
    this.token = pump.register(this);
    const sink = conn as Partial<EncodedFrameSink>;
    this.frameSink = typeof sink.sendFrames === 'function' ? (conn as Connection & EncodedFrameSink) : undefined;
  }

  bind(pointer: NativePointer): void {
    this.pointer = pointer;
  }

  /** The 101 is out: hand over what the plugin queued so far and let later sends wake Node. */
  open(): void {
    if (this.state !== NativeConnectionState.Accepted) return;
    this.becomeOpen();
    this.pump.drainConnection(this.pointer);
  }

  /** The 101 is out (its extensions are settled): whether the helper may frame replies is known. */
  private becomeOpen(): void {
    this.state = NativeConnectionState.Open;
    this.framed = this.frameSink?.sendsPlainFrames === true;
  }

  message(data: Buffer, isBinary: boolean): void {
    if (this.state === NativeConnectionState.Accepted) this.becomeOpen();
    if (this.state !== NativeConnectionState.Open) return;
    const type = isBinary ? RecordType.Binary : RecordType.Text;
    if (this.reading && data.length < BATCH_BYTES) {
      // A message in other memory (one joined from two reads) starts a batch of its own.
      if (data.length > 0 && this.batchMemory !== data.buffer) {
        if (this.batchMemory !== undefined) this.flush();
        this.batchMemory = data.buffer;
      }
      const batch = (this.batch ??= []);
      this.batchTypes[batch.length] = type;
      batch.push(data);
      this.batchBytes += data.length;
      if (this.batchBytes >= BATCH_BYTES) this.flush();
      return;
    }
    // A large message goes alone, as its replies may be large: nothing else queues behind them.
    this.flush();
    this.pump.message(this.pointer, type, data, this.framed);
  }

  /** The messages of one socket read are about to arrive: collect them for one C call. */
  readStart(): void {
    this.reading = true;
  }

  readEnd(): void {
    this.reading = false;
    this.flush();
  }

  /** No message of the last read is held: none waits in a batch, and the pump holds no reply
   *  that is a view of one (a turn's budget can leave such replies for a later turn). */
  releasedInput(): boolean {
    return this.batch === undefined && !this.pump.holdsInput();
  }

  /** Hands the collected messages to the plugin (one alone through the single-message call).
   *  `urgent`: their replies go out now, whatever the pump's budget (the close frame follows). */
  private flush(urgent = false): void {
    const batch = this.batch;
    if (batch === undefined) return;
    const memory = this.batchMemory;
    this.batch = undefined;
    this.batchMemory = undefined;
    const bytes = this.batchBytes;
    this.batchBytes = 0;
    if (this.state !== NativeConnectionState.Open) return;
    const types = this.batchTypes;
    if (batch.length === 1) this.pump.message(this.pointer, types[0]!, batch[0]!, this.framed, urgent);
    else this.pump.messages(this.pointer, types, batch, memory, bytes, this.framed, urgent);
  }

  deliver(type: RecordType, payload: Buffer): void {
    // Called from the pump's wake-up handler: a throw must not escape into the event loop.
    try {
      this.forward(type, payload);
    } catch (err) {
      this.conn.log.error({ err }, 'native plugin message could not be sent');
    }
  }

  deliverFrames(frames: Buffer, count: number): void {
    try {
      // The helper frames only for calls that said `framed`, which needs the sink.
      if (this.frameSink === undefined) throw new Error('native helper: framed replies for a connection that takes none');
      this.frameSink.sendFrames(frames, count);
    } catch (err) {
      this.conn.log.error({ err }, 'native plugin messages could not be sent');
    }
  }

  private forward(type: RecordType, payload: Buffer): void {
    const conn = this.conn;
    switch (type) {
      case RecordType.Text:
        conn.send(payload, false);
        break;
      case RecordType.Binary:
        conn.send(payload, true);
        break;
      case RecordType.Ping:
        conn.ping(payload);
        break;
      case RecordType.Pong:
        conn.pong(payload);
        break;
      case RecordType.Overflow:
        conn.log.warn('native plugin queued more than the send queue limit: closing with 1008');
        conn.close(1008, 'send queue limit exceeded');
        break;
      default:
        // CLOSE (the helper queues any type the ABI does not know as CLOSE).
        this.closeWith(payload);
    }
  }

  /** An ap_log_rerror/ap_log_cerror/… line of the plugin, on the connection's logger. */
  pluginLog(line: PluginLogLine): void {
    const fields = line.source === '' ? { plugin: this.plugin } : { plugin: this.plugin, source: line.source };
    this.conn.log[pinoLevelOf(line.level)](fields, line.text);
  }

  /** The plugin's close payload as the close frame, or the valid close closest to it. */
  private closeWith(payload: Buffer): void {
    const close = pluginClose(payload);
    if (close.problem !== undefined) this.conn.log.warn({ plugin: this.plugin }, `native plugin sent ${close.problem}`);
    if (close.code === undefined) this.conn.close();
    else this.conn.close(close.code, close.reason);
  }

  /** The close handshake started: the plugin's sends return 0 from now on. Messages that came
   *  before it are handed over first, so their replies still go out (as without batching). */
  closing(): void {
    this.flush(true);
    // Replies and sends the pump had not reached yet (its per-turn budget) go out before the close frame.
    if (this.state === NativeConnectionState.Open) this.pump.drainConnection(this.pointer, true);
    if (this.pointer !== null && this.state !== NativeConnectionState.Freed) this.lib.connClosing(this.pointer);
  }

  /** Runs on_disconnect off the JS thread; resolves once it returned and the C object is freed. */
  disconnect(): Promise<void> {
    if (this.finished) return this.finished;
    this.flush();
    this.state = NativeConnectionState.Disconnecting;
    if (this.lib.connDisconnect(this.pointer) === 0) {
      this.free();
      this.finished = Promise.resolve();
      return this.finished;
    }
    this.pump.disconnectStarted();
    this.finished = new Promise<void>((resolve) => {
      this.resolveFinished = resolve;
    });
    return this.finished;
  }

  disconnected(): void {
    this.pump.disconnectFinished();
    this.free();
    this.resolveFinished?.();
  }

  /** Also used directly for a declined connection (no on_disconnect, as the original). */
  free(): void {
    if (this.state === NativeConnectionState.Freed) return;
    this.state = NativeConnectionState.Freed;
    this.pump.unregister(this.token);
    if (this.pointer !== null) this.lib.connFree(this.pointer);
    this.pointer = null;
  }
}
