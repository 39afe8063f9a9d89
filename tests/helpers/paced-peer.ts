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
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly infoHash: Buffer,
    readonly pieceCount: number,
    readonly pieceLength: number,
    /** The torrent's bytes, to serve real blocks. */
    readonly data: Buffer,
    readonly blockIntervalMs: number,
    host = '127.0.0.3',
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
      // have-all, unchoke
      socket.write(Buffer.concat([hs, Buffer.from([0, 0, 0, 1, 0x0e, 0, 0, 0, 1, 1])]));
      this.timer ??= setInterval(() => this.serveOne(socket), this.blockIntervalMs);
    };
    this.readMessages(socket, onHandshake, (msg) => {
      if (msg.length !== 13) return;
      const ref = { index: msg.readUInt32BE(1), begin: msg.readUInt32BE(5), length: msg.readUInt32BE(9) };
      if (msg[0] === 6 && this.drop.has(++this.requestsReceived)) this.dropped.push(ref);
      else if (msg[0] === 6) this.queue.push(ref);
      if (msg[0] === 8) this.onCancel(socket, ref);
    });
  }

  private onCancel(socket: Socket, ref: QueuedRequest): void {
    this.cancelsReceived++;
    const i = this.queue.findIndex((r) => r.index === ref.index && r.begin === ref.begin);
    if (i < 0) return;
    this.queue.splice(i, 1);
    const reject = Buffer.alloc(17);
    reject.writeUInt32BE(13, 0);
    reject[4] = 0x10;
    reject.writeUInt32BE(ref.index, 5);
    reject.writeUInt32BE(ref.begin, 9);
    reject.writeUInt32BE(ref.length, 13);
    socket.write(reject);
  }

  private serveOne(socket: Socket): void {
    const ref = this.queue.shift();
    if (!ref || socket.destroyed) return;
    const head = Buffer.alloc(13);
    head.writeUInt32BE(9 + ref.length, 0);
    head[4] = 7;
    head.writeUInt32BE(ref.index, 5);
    head.writeUInt32BE(ref.begin, 9);
    const start = ref.index * this.pieceLength + ref.begin;
    socket.write(Buffer.concat([head, this.data.subarray(start, start + ref.length)]));
    this.served.push(ref);
  }

  override async close(): Promise<void> {
    clearInterval(this.timer);
    await super.close();
  }
}
