/**
 * An honest seeder that serves requests strictly in arrival order at a fixed pace (one block per
 * tick), with the fast extension: it answers a cancel of a queued request with a reject, as BEP 6
 * asks. Its queue is visible to the test, which is what makes queue-jumping measurable by counts
 * (blocks served) rather than by time. libtorrent cannot play this part: its queue is hidden and
 * its rate limiter bursts.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { LoopbackServer } from './loopback-server.js';

export interface QueuedRequest { index: number; begin: number; length: number }

/** Ways to make a paced peer less than honest, for smart-ban tests. */
export interface PacedPeerQuirks {
  /** The pieces it announces (a bitfield); all of them (have-all) when left out. */
  has?: (index: number) => boolean;
  /** Requests it answers with a reject instead of queueing. */
  reject?: (ref: QueuedRequest) => boolean;
  /** Blocks it sends with wrong bytes the first time it serves them (correct afterwards). */
  corruptOnce?: (ref: QueuedRequest) => boolean;
}

export class PacedPeer extends LoopbackServer {
  /** Requests received and not yet served or cancelled, in order. */
  readonly queue: QueuedRequest[] = [];
  /** Every block served, in order. */
  readonly served: QueuedRequest[] = [];
  cancelsReceived = 0;
  /** Requests received so far (served, queued, cancelled or dropped). */
  requestsReceived = 0;
  /** 1-based numbers of requests to drop silently, as transmission 3.00 sometimes does. */
  readonly drop = new Set<number>();
  readonly dropped: QueuedRequest[] = [];
  /** While true nothing is served (requests and cancels are still taken): freezes the queue for a test to look at. */
  paused = false;
  /** Blocks sent corrupt so far. */
  readonly corrupted: QueuedRequest[] = [];
  private readonly servedOnce = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly infoHash: Buffer,
    readonly pieceCount: number,
    readonly pieceLength: number,
    /** The torrent's bytes, to serve real blocks. */
    readonly data: Buffer,
    readonly blockIntervalMs: number,
    host = '127.0.0.3',
    private readonly quirks: PacedPeerQuirks = {},
  ) {
    super(host);
  }

  protected onConnection(socket: Socket): void {
    const onHandshake = () => {
      const hs = Buffer.alloc(68);
      hs[0] = 19;
      hs.write('BitTorrent protocol', 1, 'latin1');
      hs[27] = 0x04; // fast extension
      this.infoHash.copy(hs, 28);
      randomBytes(20).copy(hs, 48);
      // have-all (or a bitfield), unchoke
      socket.write(Buffer.concat([hs, this.announce(), Buffer.from([0, 0, 0, 1, 1])]));
      this.timer ??= setInterval(() => this.serveOne(socket), this.blockIntervalMs);
    };
    this.readMessages(socket, onHandshake, (msg) => {
      if (msg.length !== 13) return;
      const ref = { index: msg.readUInt32BE(1), begin: msg.readUInt32BE(5), length: msg.readUInt32BE(9) };
      if (msg[0] === 6 && this.drop.has(++this.requestsReceived)) this.dropped.push(ref);
      else if (msg[0] === 6 && this.quirks.reject?.(ref)) this.sendReject(socket, ref);
      else if (msg[0] === 6) this.queue.push(ref);
      if (msg[0] === 8) this.onCancel(socket, ref);
    });
  }

  private onCancel(socket: Socket, ref: QueuedRequest): void {
    this.cancelsReceived++;
    const i = this.queue.findIndex((r) => r.index === ref.index && r.begin === ref.begin);
    if (i < 0) return;
    this.queue.splice(i, 1);
    this.sendReject(socket, ref);
  }

  private announce(): Buffer {
    const has = this.quirks.has;
    if (!has) return Buffer.from([0, 0, 0, 1, 0x0e]);
    const bits = Buffer.alloc(Math.ceil(this.pieceCount / 8));
    for (let i = 0; i < this.pieceCount; i++) if (has(i)) bits[i >> 3] |= 0x80 >> (i & 7);
    const head = Buffer.alloc(5);
    head.writeUInt32BE(1 + bits.length, 0);
    head[4] = 5;
    return Buffer.concat([head, bits]);
  }

  private sendReject(socket: Socket, ref: QueuedRequest): void {
    const reject = Buffer.alloc(17);
    reject.writeUInt32BE(13, 0);
    reject[4] = 0x10;
    reject.writeUInt32BE(ref.index, 5);
    reject.writeUInt32BE(ref.begin, 9);
    reject.writeUInt32BE(ref.length, 13);
    socket.write(reject);
  }

  private serveOne(socket: Socket): void {
    if (this.paused) return;
    const ref = this.queue.shift();
    if (!ref || socket.destroyed) return;
    const head = Buffer.alloc(13);
    head.writeUInt32BE(9 + ref.length, 0);
    head[4] = 7;
    head.writeUInt32BE(ref.index, 5);
    head.writeUInt32BE(ref.begin, 9);
    const start = ref.index * this.pieceLength + ref.begin;
    let block = this.data.subarray(start, start + ref.length);
    const key = `${ref.index}:${ref.begin}`;
    if (this.quirks.corruptOnce?.(ref) && !this.servedOnce.has(key)) {
      block = Buffer.from(block.map((b) => b ^ 0xff));
      this.corrupted.push(ref);
    }
    this.servedOnce.add(key);
    socket.write(Buffer.concat([head, block]));
    this.served.push(ref);
  }

  override async close(): Promise<void> {
    clearInterval(this.timer);
    await super.close();
  }
}
