/**
 * Turns the raw byte stream from a peer into messages. Pure: no sockets, no timers, so hostile
 * input is easy to test. It bounds what a peer can make us buffer (`maxMessageLength`), rejects
 * messages whose size does not fit their id, and never re-copies buffered data: a message that
 * lies inside one received chunk is a view of it, one that spans chunks is copied exactly once.
 */
import { ProtocolError } from '../errors.js';
import { HANDSHAKE_LENGTH, MessageId, PROTOCOL, type HandshakeInfo, type WireMessage } from './messages.js';

/** Expected payload length (id byte included) per message id; -N means "at least N". */
const LENGTH_RULES: Record<number, number> = {
  [MessageId.choke]: 1,
  [MessageId.unchoke]: 1,
  [MessageId.interested]: 1,
  [MessageId.notInterested]: 1,
  [MessageId.have]: 5,
  [MessageId.bitfield]: -1,
  [MessageId.request]: 13,
  [MessageId.piece]: -9,
  [MessageId.cancel]: 13,
  [MessageId.port]: 3,
  [MessageId.suggest]: 5,
  [MessageId.haveAll]: 1,
  [MessageId.haveNone]: 1,
  [MessageId.reject]: 13,
  [MessageId.allowedFast]: 5,
  [MessageId.extended]: -2,
};

export interface FrameParserOptions {
  /** Largest message (length prefix) accepted; anything larger is a protocol error. */
  maxMessageLength: number;
  onHandshake(info: HandshakeInfo): void;
  onMessage(msg: WireMessage): void;
}

export class FrameParser {
  private chunks: Buffer[] = [];
  /** Read position inside chunks[0]. */
  private head = 0;
  /** Unread bytes across all chunks. */
  private available = 0;
  private handshakeDone = false;
  /** Length of the message body being waited for, or -1 while waiting for a length prefix. */
  private bodyLength = -1;
  /** Set after an error or stop(): further input is ignored. */
  private stopped = false;

  constructor(private readonly opts: FrameParserOptions) {}

  /**
   * Feeds bytes; throws ProtocolError on the first violation (and ignores input after it).
   * `transient`: the caller reuses `chunk`'s memory after this call (a shared read buffer), so
   * unparsed bytes are copied out before returning. Messages delivered during the call may be
   * views of `chunk`: consumers copy what they keep.
   */
  push(chunk: Buffer, transient = false): void {
    if (this.stopped || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.available += chunk.length;
    try {
      this.drain();
    } catch (err) {
      this.stop();
      throw err;
    }
    if (transient && this.available > 0 && !this.stopped) this.ownLeftover();
  }

  /** Copies the unparsed tail into memory of our own (at most one message). */
  private ownLeftover(): void {
    const owned = Buffer.allocUnsafe(this.available);
    let filled = 0;
    for (let i = 0; i < this.chunks.length; i++) {
      const c = this.chunks[i];
      const from = i === 0 ? this.head : 0;
      filled += c.copy(owned, filled, from);
    }
    this.chunks = [owned];
    this.head = 0;
  }

  /** Stops delivering messages, e.g. once the connection is being torn down. */
  stop(): void {
    this.stopped = true;
    this.chunks = [];
    this.available = 0;
    this.head = 0;
  }

  /** Bytes received but not yet parsed (bounded by maxMessageLength + one chunk). */
  get buffered(): number {
    return this.available;
  }

  private drain(): void {
    if (!this.handshakeDone) {
      if (this.available >= 1 && this.peekByte() !== PROTOCOL.length) throw new ProtocolError('not a BitTorrent handshake');
      if (this.available < HANDSHAKE_LENGTH) return;
      const hs = this.take(HANDSHAKE_LENGTH);
      if (hs.toString('latin1', 1, 20) !== PROTOCOL) throw new ProtocolError('not a BitTorrent handshake');
      this.handshakeDone = true;
      this.opts.onHandshake({
        infoHash: Buffer.from(hs.subarray(28, 48)),
        peerId: Buffer.from(hs.subarray(48, 68)),
        extended: (hs[25] & 0x10) !== 0,
        fast: (hs[27] & 0x04) !== 0,
        dht: (hs[27] & 0x01) !== 0,
      });
    }
    while (!this.stopped) {
      if (this.bodyLength < 0) {
        if (this.available < 4) return;
        const len = this.readUInt32();
        if (len === 0) {
          this.opts.onMessage({ type: 'keep-alive' });
          continue;
        }
        if (len > this.opts.maxMessageLength) {
          throw new ProtocolError(`message of ${len} bytes exceeds the ${this.opts.maxMessageLength}-byte limit`);
        }
        this.bodyLength = len;
      }
      if (this.available < this.bodyLength) return;
      const body = this.take(this.bodyLength);
      this.bodyLength = -1;
      this.opts.onMessage(decodeBody(body));
    }
  }

  private peekByte(): number {
    return this.chunks[0][this.head];
  }

  private readUInt32(): number {
    const first = this.chunks[0];
    if (first.length - this.head >= 4) {
      const v = first.readUInt32BE(this.head);
      this.advance(4);
      return v;
    }
    return this.take(4).readUInt32BE(0);
  }

  /** Removes n bytes from the front: a view when they sit in one chunk, one copy otherwise. */
  private take(n: number): Buffer {
    const first = this.chunks[0];
    if (first.length - this.head >= n) {
      const view = first.subarray(this.head, this.head + n);
      this.advance(n);
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0];
      const count = Math.min(n - filled, c.length - this.head);
      c.copy(out, filled, this.head, this.head + count);
      filled += count;
      this.advance(count);
    }
    return out;
  }

  private advance(n: number): void {
    this.head += n;
    this.available -= n;
    if (this.head === this.chunks[0].length) {
      this.chunks.shift();
      this.head = 0;
    }
  }
}

function decodeBody(body: Buffer): WireMessage {
  const id = body[0];
  const rule = LENGTH_RULES[id];
  if (rule === undefined) return { type: 'unknown', id };
  if (rule > 0 ? body.length !== rule : body.length < -rule) {
    throw new ProtocolError(`message id ${id} has invalid length ${body.length}`);
  }
  switch (id) {
    case MessageId.choke: return { type: 'choke' };
    case MessageId.unchoke: return { type: 'unchoke' };
    case MessageId.interested: return { type: 'interested' };
    case MessageId.notInterested: return { type: 'not-interested' };
    case MessageId.have: return { type: 'have', index: body.readUInt32BE(1) };
    case MessageId.bitfield: return { type: 'bitfield', bytes: body.subarray(1) };
    case MessageId.request:
    case MessageId.cancel:
    case MessageId.reject: {
      const ref = { index: body.readUInt32BE(1), begin: body.readUInt32BE(5), length: body.readUInt32BE(9) };
      const type = id === MessageId.request ? 'request' : id === MessageId.cancel ? 'cancel' : 'reject';
      return { type, ...ref };
    }
    case MessageId.piece: return { type: 'piece', index: body.readUInt32BE(1), begin: body.readUInt32BE(5), block: body.subarray(9) };
    case MessageId.port: return { type: 'port', port: body.readUInt16BE(1) };
    case MessageId.suggest: return { type: 'suggest', index: body.readUInt32BE(1) };
    case MessageId.haveAll: return { type: 'have-all' };
    case MessageId.haveNone: return { type: 'have-none' };
    case MessageId.allowedFast: return { type: 'allowed-fast', index: body.readUInt32BE(1) };
    default: return { type: 'extended', id: body[1], payload: body.subarray(2) };
  }
}
