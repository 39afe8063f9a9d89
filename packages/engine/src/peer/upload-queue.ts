/**
 * The blocks one peer asked us for: checked (a piece we have, inside it, at most 128 KiB),
 * bounded (past `maxQueue`, rejected: bittorrent-protocol queued without limit), served a few at
 * a time and only while the socket keeps up (a peer that does not read stops getting blocks read
 * for it), rejected on choke and cancel when the peer speaks the fast extension (BEP 6).
 */
import type { BlockRef } from '../wire/messages.js';
import type { PeerConnection } from '../wire/peer-connection.js';
import type { BorrowedBytes } from '../storage/piece-cache.js';

/** Largest request we serve (libtorrent rejects over 16 KiB by default; some clients ask 32–128). */
export const MAX_REQUEST_LENGTH = 128 * 1024;
/** Blocks being read from storage for one peer at once. */
const READS_IN_FLIGHT = 8;

export interface UploadSource {
  readonly pieceCount: number;
  pieceSize(index: number): number;
  havePiece(index: number): boolean;
  /** The block, lent until released (the upload queue releases it once the socket took it). */
  readBlock(index: number, begin: number, length: number): Promise<BorrowedBytes>;
}

export interface UploadQueueOptions {
  maxQueue: number;
  /** Stop reading blocks for this peer while this much waits in its socket. */
  maxBacklog: number;
}

export class UploadQueue {
  private readonly queue: BlockRef[] = [];
  private inFlight = 0;
  private stopped = false;
  /** Held by the upload rate limit (limits/bandwidth.ts) until resume(). */
  private held = false;

  constructor(
    private readonly wire: PeerConnection,
    private readonly fast: boolean,
    private readonly source: UploadSource,
    private readonly opts: UploadQueueOptions,
    /** Still allowed to send (unchoked, open)? Checked again when a read completes. */
    private readonly maySend: () => boolean,
    private readonly onSent: (bytes: number) => void,
  ) {}

  get length(): number { return this.queue.length; }

  /** A request from the peer: queued, or rejected (fast peers) / ignored. */
  request(ref: BlockRef): void {
    const valid = ref.index < this.source.pieceCount && this.source.havePiece(ref.index) && ref.length > 0 &&
      ref.length <= MAX_REQUEST_LENGTH && ref.begin + ref.length <= this.source.pieceSize(ref.index);
    if (!valid || !this.maySend() || this.queue.length >= this.opts.maxQueue) {
      if (this.fast) this.wire.reject(ref);
      return;
    }
    this.queue.push(ref);
    this.serve();
  }

  cancel(ref: BlockRef): void {
    const i = this.queue.findIndex((r) => r.index === ref.index && r.begin === ref.begin && r.length === ref.length);
    if (i < 0) return;
    this.queue.splice(i, 1);
    // BEP 6: with the fast extension every cancelled request is answered, here with a reject.
    if (this.fast) this.wire.reject(ref);
  }

  /** We choked the peer: what it asked for will not be sent. */
  choked(): void {
    if (this.fast) for (const ref of this.queue) this.wire.reject(ref);
    this.queue.length = 0;
  }

  /** The upload limit is in debt: send nothing more until resume(). */
  pause(): void {
    this.held = true;
  }

  resume(): void {
    this.held = false;
    this.serve();
  }

  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
  }

  /** Starts reads while there is room (called on requests and when the socket drains). */
  serve(): void {
    while (!this.stopped && !this.held && this.queue.length > 0 && this.inFlight < READS_IN_FLIGHT && this.wire.writeBacklog < this.opts.maxBacklog) {
      const ref = this.queue.shift() as BlockRef;
      this.inFlight++;
      this.source.readBlock(ref.index, ref.begin, ref.length).then(
        (block) => {
          if (this.stopped || !this.maySend()) return block.release();
          // Reads already in flight when the limit paused the queue still go out: the bucket
          // takes them as debt.
          this.wire.piece(ref.index, ref.begin, block.data, () => block.release());
          this.onSent(block.data.length);
        },
        () => { if (this.fast && !this.stopped) this.wire.reject(ref); },
      ).finally(() => {
        this.inFlight--;
        this.serve();
      });
    }
  }
}
