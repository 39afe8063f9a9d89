/**
 * A PeerConnection without a socket: records what was sent, delivers messages we hand it, and
 * lets a test set the write backlog. PeerSession and Torrent run on it unchanged.
 */
import { EventEmitter } from 'node:events';
import type { BlockRef, HandshakeInfo, WireMessage } from '../../src/wire/messages.js';
import type { PeerConnection, PeerConnectionEvents } from '../../src/wire/peer-connection.js';

export type Sent =
  | { type: 'choke' }
  | { type: 'unchoke' }
  | { type: 'interested' }
  | { type: 'not-interested' }
  | { type: 'have-all' }
  | { type: 'have-none' }
  | { type: 'have'; index: number }
  | { type: 'bitfield'; bytes: Uint8Array }
  | { type: 'request'; ref: BlockRef }
  | { type: 'cancel'; ref: BlockRef }
  | { type: 'reject'; ref: BlockRef }
  | { type: 'extended'; id: number; payload: Uint8Array }
  | { type: 'piece'; index: number; begin: number; length: number };

export class FakeConnection extends EventEmitter implements PeerConnection {
  readonly sent: Sent[] = [];
  writeBacklog = 0;
  lastMessageAt = Date.now();
  closedWith: Error | undefined;
  /** What the session gave as the place where blocks may land (FrameParser's pieceTarget). */
  pieceTarget: ((index: number, begin: number, length: number) => Buffer | undefined) | undefined;
  landingsAborted = 0;
  /** What the session gave to hear each socket read (rate limits), and whether reads are paused. */
  readMeter: ((bytes: number) => void) | undefined;
  readsPaused = false;

  override on<E extends keyof PeerConnectionEvents>(event: E, listener: (...args: PeerConnectionEvents[E]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  get isClosed(): boolean { return this.closedWith !== undefined; }

  /** A message from the peer. */
  receive(msg: WireMessage): void {
    this.lastMessageAt = Date.now();
    this.emit('message', msg);
  }

  /** The socket drained `bytes` of the backlog. */
  drain(): void {
    this.writeBacklog = 0;
    this.emit('drain');
  }

  /** Sent messages of one type. */
  of<T extends Sent['type']>(type: T): Extract<Sent, { type: T }>[] {
    return this.sent.filter((m): m is Extract<Sent, { type: T }> => m.type === type);
  }

  clear(): void { this.sent.length = 0; }

  choke(): void { this.push({ type: 'choke' }); }
  unchoke(): void { this.push({ type: 'unchoke' }); }
  interested(): void { this.push({ type: 'interested' }); }
  notInterested(): void { this.push({ type: 'not-interested' }); }
  haveAll(): void { this.push({ type: 'have-all' }); }
  haveNone(): void { this.push({ type: 'have-none' }); }
  have(index: number): void { this.push({ type: 'have', index }); }
  bitfield(bytes: Uint8Array): void { this.push({ type: 'bitfield', bytes }); }
  request(ref: BlockRef): void { this.push({ type: 'request', ref }); }
  cancel(ref: BlockRef): void { this.push({ type: 'cancel', ref }); }
  reject(ref: BlockRef): void { this.push({ type: 'reject', ref }); }
  extended(id: number, payload: Uint8Array): void { this.push({ type: 'extended', id, payload }); }
  piece(index: number, begin: number, block: Buffer, taken?: () => void): void {
    this.push({ type: 'piece', index, begin, length: block.length });
    taken?.();
  }

  setPieceTarget(fn: FakeConnection['pieceTarget']): void { this.pieceTarget = fn; }
  abortLanding(): void { this.landingsAborted++; }
  setReadMeter(meter: FakeConnection['readMeter']): void { this.readMeter = meter; }
  pauseReads(): void { this.readsPaused = true; }
  resumeReads(): void { this.readsPaused = false; }

  destroy(reason: Error = new Error('closed by us')): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    this.emit('close', reason);
  }

  private push(m: Sent): void {
    if (!this.closedWith) this.sent.push(m);
  }
}

export function handshake(peerId: Buffer | number, infoHash: Buffer = Buffer.alloc(20, 1), fast = true): HandshakeInfo {
  const id = typeof peerId === 'number' ? Buffer.alloc(20, peerId) : peerId;
  return { infoHash, peerId: id, fast, extended: true, dht: false };
}
