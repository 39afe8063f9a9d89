/**
 * How many block requests to keep outstanding with one peer. Too few and the link idles between
 * round trips; too many and a slow peer hoards blocks others could fetch (and queues past the
 * peer's `reqq` are silently dropped by libtorrent). Like TCP and cratetorrent: slow start (one
 * more request per block received, i.e. doubling per round trip) until the rate stops growing,
 * then the bandwidth-delay product: rate x `queueTimeSec` (libtorrent's request_queue_time),
 * always capped by the peer's advertised `reqq`. Pure; PeerSession feeds it.
 */
import { BLOCK_SIZE } from '../wire/messages.js';

export interface PipelineOptions {
  initial: number;
  min: number;
  /** Our own ceiling regardless of what the peer allows. */
  max: number;
  queueTimeSec: number;
}

export const DEFAULT_PIPELINE: PipelineOptions = { initial: 16, min: 2, max: 1000, queueTimeSec: 2 };

export class RequestPipeline {
  private target: number;
  private slowStart = true;
  private lastRate = 0;
  /** The peer's `reqq` (BEP 10); 250 when it says nothing, as libtorrent assumes. */
  peerLimit = 250;

  constructor(private readonly opts: PipelineOptions = DEFAULT_PIPELINE) {
    this.target = opts.initial;
  }

  get depth(): number {
    return Math.max(this.opts.min, Math.min(this.target, this.opts.max, this.peerLimit));
  }

  get inSlowStart(): boolean {
    return this.slowStart;
  }

  onBlock(): void {
    if (this.slowStart) this.target = Math.min(this.target + 1, this.opts.max);
  }

  /** Called about once a second with the peer's current download rate (bytes/s). */
  onRateSample(rate: number): void {
    if (this.slowStart) {
      if (this.lastRate > 0 && rate < this.lastRate * 1.1) this.slowStart = false;
      this.lastRate = Math.max(this.lastRate, rate);
      if (this.slowStart) return;
    }
    this.target = Math.ceil((rate * this.opts.queueTimeSec) / BLOCK_SIZE);
  }

  /** The peer stopped answering: back to one request at a time until it proves itself again. */
  onSnubbed(): void {
    this.target = 1;
    this.slowStart = false;
    this.lastRate = 0;
  }
}
