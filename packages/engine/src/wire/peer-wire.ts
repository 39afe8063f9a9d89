/**
 * One TCP connection speaking the peer wire protocol: feeds received bytes to the FrameParser,
 * encodes what we send, batches small writes (a burst of requests leaves as one TCP write), and
 * enforces the connection-level timeouts (handshake, idle) and keep-alives. It knows nothing of
 * torrents or pieces; PeerSession gives the messages meaning.
 */
import * as net from 'node:net';
import type { Socket } from 'node:net';
import { CtError } from '../errors.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { FrameParser } from './frame-parser.js';
import type { PeerConnection, PeerConnectionEvents } from './peer-connection.js';
import {
  KEEP_ALIVE, MessageId, encodeBlockRef, encodeHandshake, encodeIndex, encodePieceHeader, encodeSimple, encodeWithPayload,
  type BlockRef,
} from './messages.js';

export interface PeerWireOptions {
  maxMessageLength: number;
  /** Close when the peer's handshake has not arrived by then. */
  handshakeTimeoutMs: number;
  /**
   * Close when no complete message arrived for this long (peers send keep-alives every ~2 min at
   * most). Bytes alone do not count: a peer trickling one byte a second never completes one.
   */
  idleTimeoutMs: number;
  /** Send a keep-alive when we sent nothing for this long. */
  keepAliveMs: number;
}

export const DEFAULT_WIRE_OPTIONS: PeerWireOptions = {
  maxMessageLength: 256 * 1024 + 13,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 150_000,
  keepAliveMs: 60_000,
};

/** The other end went away (closed, reset): not our decision. */
export class PeerGoneError extends CtError {
  /** An orderly close (FIN), not a reset or a socket error. */
  readonly clean: boolean;
  constructor(message: string, clean: boolean) {
    super('EPEER_GONE', message);
    this.clean = clean;
  }
}

/** A close that says nothing bad about the peer: ours without blame, or its orderly one. */
export function isBlameless(err: Error): boolean {
  return (err instanceof CtError && (err.code === 'ECLOSED' || err.code === 'EPEER_EVICTED')) || (err instanceof PeerGoneError && err.clean);
}

export type PeerWireEvents = PeerConnectionEvents;

/**
 * One read buffer for every outgoing connection of the process. Node's default gives each read a
 * new 64 KiB Buffer: ~16,000 short-lived allocations per GiB downloaded, and GC pressure that shows
 * in peak RSS. With `onread` the kernel fills this buffer (up to 1 MiB per read, fewer syscalls),
 * the parser consumes it synchronously and copies out only an incomplete trailing message.
 */
const SHARED_READ_BUFFER = Buffer.allocUnsafe(1024 * 1024);
const sharedReadSockets = new WeakMap<Socket, PeerWire | undefined>();

/** net.connect() whose reads go through the shared buffer straight into the socket's PeerWire. */
export function connectWithSharedReads(host: string, port: number): Socket {
  let socket: Socket | undefined = undefined;
  socket = net.connect({
    host,
    port,
    onread: {
      // Asked before every read: after a block, its next message head alone; the rest of a block
      // landing in place; else the shared buffer (FrameParser.readTarget).
      buffer: () => (socket && sharedReadSockets.get(socket)?.readTarget()) ?? SHARED_READ_BUFFER,
      callback: (bytes: number, buf: Uint8Array) => {
        const wire = socket && sharedReadSockets.get(socket);
        wire?.onBytes(Buffer.from(buf.buffer, buf.byteOffset, bytes), true);
        return true;
      },
    },
  });
  sharedReadSockets.set(socket, undefined);
  return socket;
}

export class PeerWire extends TypedEmitter<PeerWireEvents> implements PeerConnection {
  private readonly parser: FrameParser;
  private closed = false;
  private corked = false;
  private lastReceived = Date.now();
  private lastSent = Date.now();
  private readonly timer: NodeJS.Timeout;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private readMeter: ((bytes: number) => void) | undefined;

  constructor(readonly socket: Socket, private readonly opts: PeerWireOptions = DEFAULT_WIRE_OPTIONS) {
    super();
    this.parser = new FrameParser({
      maxMessageLength: opts.maxMessageLength,
      onHandshake: (info) => {
        clearTimeout(this.handshakeTimer);
        this.lastReceived = Date.now();
        this.emit('handshake', info);
      },
      onMessage: (msg) => {
        this.lastReceived = Date.now();
        this.emit('message', msg);
      },
    });
    socket.setNoDelay(true);
    // Sockets created by connectWithSharedReads() deliver through onBytes() from the buffer the
    // parser chose; others emit 'data' with a fresh buffer per read.
    if (!sharedReadSockets.has(socket)) socket.on('data', (chunk: Buffer) => this.onBytes(chunk, false));
    else sharedReadSockets.set(socket, this);
    socket.on('drain', () => this.emit('drain'));
    socket.on('error', (err) => this.destroy(new PeerGoneError(`connection error: ${err.message}`, false)));
    socket.on('close', () => this.destroy(new PeerGoneError('the peer closed the connection', true)));
    socket.on('end', () => this.destroy(new PeerGoneError('the peer closed the connection', true)));
    this.handshakeTimer = setTimeout(() => this.destroy(new CtError('ETIMEOUT', `no handshake in ${Math.round(opts.handshakeTimeoutMs / 1000)} s`)), opts.handshakeTimeoutMs);
    const tick = Math.min(opts.keepAliveMs, opts.idleTimeoutMs) / 4;
    this.timer = setInterval(() => this.checkTimers(), tick);
    this.timer.unref();
  }

  /** Bytes from the socket; `transient` when they sit in the shared read buffer. */
  onBytes(chunk: Buffer, transient: boolean): void {
    try {
      this.parser.push(chunk, transient);
    } catch (err) {
      this.destroy(err as Error);
    }
    this.readMeter?.(chunk.length);
  }

  setReadMeter(meter: ((bytes: number) => void) | undefined): void {
    this.readMeter = meter;
  }

  pauseReads(): void {
    if (!this.closed) this.socket.pause();
  }

  resumeReads(): void {
    if (!this.closed) this.socket.resume();
  }

  /** Lets piece payloads land in place (see FrameParser); undefined turns it off. */
  setPieceTarget(fn: ((index: number, begin: number, length: number) => Buffer | undefined) | undefined): void {
    // Sockets of connectWithSharedReads() read a block straight into place; the others still
    // save the second copy of a block that spans reads.
    this.parser.setPieceTarget(fn);
  }

  /** Where the next read should go (a landing block), for connectWithSharedReads. */
  readTarget(): Buffer | undefined {
    return this.closed ? undefined : this.parser.readTarget();
  }

  /** The landing block's request was given up: its remaining bytes must not reach its target. */
  abortLanding(): void {
    this.parser.abortLanding();
  }

  /** When the last complete message (or the handshake) arrived. */
  get lastMessageAt(): number {
    return this.lastReceived;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes queued in the socket but not yet handed to the kernel: the upload backlog. */
  get writeBacklog(): number {
    return this.socket.writableLength;
  }

  sendHandshake(infoHash: Buffer, peerId: Buffer, opts: { fast: boolean; extended: boolean; dht: boolean }): void {
    this.write(encodeHandshake(infoHash, peerId, opts));
  }

  choke(): void { this.write(encodeSimple(MessageId.choke)); }
  unchoke(): void { this.write(encodeSimple(MessageId.unchoke)); }
  interested(): void { this.write(encodeSimple(MessageId.interested)); }
  notInterested(): void { this.write(encodeSimple(MessageId.notInterested)); }
  have(index: number): void { this.write(encodeIndex(MessageId.have, index)); }
  haveAll(): void { this.write(encodeSimple(MessageId.haveAll)); }
  haveNone(): void { this.write(encodeSimple(MessageId.haveNone)); }
  bitfield(bytes: Uint8Array): void { this.write(encodeWithPayload(MessageId.bitfield, bytes)); }
  request(ref: BlockRef): void { this.write(encodeBlockRef(MessageId.request, ref)); }
  cancel(ref: BlockRef): void { this.write(encodeBlockRef(MessageId.cancel, ref)); }
  reject(ref: BlockRef): void { this.write(encodeBlockRef(MessageId.reject, ref)); }
  allowedFast(index: number): void { this.write(encodeIndex(MessageId.allowedFast, index)); }
  extended(id: number, payload: Uint8Array): void { this.write(encodeWithPayload(MessageId.extended, payload, id)); }

  /**
   * Sends a block without copying it: header and data leave in one corked write. `taken` runs
   * once the kernel has the bytes (or they will never be sent): until then `block` must not change.
   */
  piece(index: number, begin: number, block: Buffer, taken?: () => void): void {
    this.write(encodePieceHeader(index, begin, block.length));
    this.write(block, taken);
  }

  /** Closes the connection; `reason` says why (it reaches `peer-disconnected`). */
  destroy(reason: Error = new CtError('ECLOSED', 'closed by us')): void {
    const err = reason;
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.handshakeTimer);
    this.parser.stop();
    this.socket.destroy();
    this.emit('close', err);
  }

  private write(buf: Buffer, written?: () => void): void {
    if (this.closed) {
      written?.();
      return;
    }
    if (!this.corked) {
      // Everything sent in this tick (a burst of requests, a piece header and its data) goes out
      // as one writev instead of one syscall per message.
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.lastSent = Date.now();
    // The callback runs when libuv's write completes or fails, and for writes pending when the
    // socket is destroyed.
    if (written) this.socket.write(buf, () => written());
    else this.socket.write(buf);
  }

  private checkTimers(): void {
    const now = Date.now();
    if (now - this.lastReceived > this.opts.idleTimeoutMs) {
      this.destroy(new CtError('ETIMEOUT', `no complete message from the peer in ${Math.round(this.opts.idleTimeoutMs / 1000)} s`));
    } else if (now - this.lastSent > this.opts.keepAliveMs) {
      this.write(KEEP_ALIVE);
    }
  }
}
