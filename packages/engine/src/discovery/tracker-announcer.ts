/**
 * Announces one torrent to its trackers: `started` first, regular announces at each tracker's
 * interval (clamped, see announce.ts), `completed` once the download is done, `stopped` when the
 * torrent closes. Tiers follow BEP 12 (tracker-tiers.ts). Each tracker's state, last error and
 * last warning are kept for status; a failing tracker never affects the torrent beyond that.
 */
import { randomInt } from 'node:crypto';
import { CtError } from '../errors.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { nextAnnounceSec, type AnnounceEvent, type AnnounceParams, type AnnounceResult } from './announce.js';
import { httpAnnounce } from './http-tracker.js';
import { TrackerTiers } from './tracker-tiers.js';
import { DEFAULT_UDP_OPTIONS, udpAnnounce } from './udp-tracker.js';

export interface TrackerStatus {
  url: string;
  tier: number;
  /** How the last announce went ('idle' before the first one ended). */
  state: 'idle' | 'working' | 'error';
  /** An announce is under way. */
  updating: boolean;
  /** Why the last announce failed. */
  error?: string;
  /** The tracker's last "warning message". */
  warning?: string;
  /** Peers in the last answer. */
  peers: number;
  seeders?: number;
  leechers?: number;
  /** Seconds until the next announce, when one is scheduled. */
  nextAnnounceIn?: number;
}

export interface AnnouncerOptions {
  infoHash: Buffer;
  peerId: Buffer;
  /** Our listening port, announced to trackers. */
  port: number;
  /** Transfer figures for the announce. */
  stats(): { uploaded: number; downloaded: number; left: number };
  /** HTTP timeout, and the first UDP timeout (doubling over 3 tries). */
  timeoutMs?: number;
  numwant?: number;
  /** The shortest re-announce interval we accept from a tracker (default MIN_ANNOUNCE_SEC). */
  minIntervalSec?: number;
}

/** What an announce uses when the options leave it out. */
export const DEFAULT_ANNOUNCE = { timeoutMs: 15_000, numwant: 200 } as const;

export interface AnnouncerEvents {
  peers: [string[]];
}

interface TrackerState {
  status: TrackerStatus;
  started: boolean;
  completedSent: boolean;
  trackerId?: Buffer;
  nextAt?: number;
}

export class TrackerAnnouncer extends TypedEmitter<AnnouncerEvents> {
  private readonly tiers: TrackerTiers;
  private readonly trackers = new Map<string, TrackerState>();
  private readonly timers: (NodeJS.Timeout | undefined)[] = [];
  private readonly key = randomInt(0, 2 ** 31);
  private completedPending = false;
  private stopped = false;

  constructor(tiers: readonly (readonly string[])[], private readonly opts: AnnouncerOptions) {
    super();
    this.tiers = new TrackerTiers(tiers);
    for (const { url, tier } of this.tiers.all()) {
      this.trackers.set(url, { status: { url, tier, state: 'idle', updating: false, peers: 0 }, started: false, completedSent: false });
    }
  }

  get size(): number {
    return this.trackers.size;
  }

  start(): void {
    for (let tier = 0; tier < this.tiers.count; tier++) void this.announce(tier);
  }

  /** The download completed: each tier's tracker hears `completed` at once. */
  completed(): void {
    if (this.stopped) return;
    this.completedPending = true;
    for (let tier = 0; tier < this.tiers.count; tier++) void this.announce(tier);
  }

  /** Sends `stopped` to the trackers that heard `started` (waiting at most `waitMs`), then goes quiet. */
  async stop(waitMs = 2000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    const sends = [...this.trackers.values()].filter((t) => t.started).map((t) =>
      this.send(t.status.url, this.params('stopped', t), Math.min(waitMs, this.opts.timeoutMs ?? DEFAULT_ANNOUNCE.timeoutMs)).catch(() => undefined));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(sends), new Promise((r) => { timer = setTimeout(r, waitMs); })]);
    clearTimeout(timer);
  }

  status(): TrackerStatus[] {
    const now = Date.now();
    return [...this.trackers.values()].map((t) => ({
      ...t.status,
      nextAnnounceIn: t.nextAt !== undefined ? Math.max(0, Math.round((t.nextAt - now) / 1000)) : undefined,
    }));
  }

  private params(event: AnnounceEvent, t: TrackerState): AnnounceParams {
    const s = this.opts.stats();
    return {
      infoHash: this.opts.infoHash, peerId: this.opts.peerId, port: this.opts.port, key: this.key,
      uploaded: s.uploaded, downloaded: s.downloaded, left: s.left, event,
      numwant: event === 'stopped' ? 0 : this.opts.numwant ?? DEFAULT_ANNOUNCE.numwant, trackerId: t.trackerId,
    };
  }

  private send(url: string, params: AnnounceParams, timeoutMs: number): Promise<AnnounceResult> {
    if (/^udp:/i.test(url)) return udpAnnounce(url, params, { ...DEFAULT_UDP_OPTIONS, timeoutMs: Math.min(timeoutMs, DEFAULT_UDP_OPTIONS.timeoutMs) });
    return httpAnnounce(url, params, timeoutMs);
  }

  private schedule(tier: number, ms: number): void {
    clearTimeout(this.timers[tier]);
    if (this.stopped) return;
    this.timers[tier] = setTimeout(() => void this.announce(tier), ms);
    this.timers[tier]?.unref();
  }

  private async announce(tier: number): Promise<void> {
    if (this.stopped) return;
    clearTimeout(this.timers[tier]);
    const url = this.tiers.active(tier);
    const t = this.trackers.get(url) as TrackerState;
    if (t.status.updating) return;
    const event: AnnounceEvent = !t.started ? 'started' : this.completedPending && !t.completedSent ? 'completed' : undefined;
    t.status.updating = true;
    t.nextAt = undefined;
    try {
      const result = await this.send(url, this.params(event, t), this.opts.timeoutMs ?? DEFAULT_ANNOUNCE.timeoutMs);
      if (this.stopped) return;
      t.started = true;
      if (event === 'completed') t.completedSent = true;
      t.trackerId = result.trackerId ?? t.trackerId;
      t.status = { ...t.status, state: 'working', updating: false, error: undefined, warning: result.warning, peers: result.peers.length, seeders: result.seeders, leechers: result.leechers };
      this.tiers.succeeded(tier);
      const ms = nextAnnounceSec(result.interval, result.minInterval, this.opts.minIntervalSec) * 1000;
      t.nextAt = Date.now() + ms;
      this.schedule(tier, ms);
      if (result.peers.length) this.emit('peers', result.peers);
    } catch (err) {
      if (this.stopped) return;
      t.status = { ...t.status, state: 'error', updating: false, error: err instanceof CtError ? err.message : String(err) };
      const wait = this.tiers.failed(tier);
      const next = this.trackers.get(this.tiers.active(tier)) as TrackerState;
      next.nextAt = Date.now() + wait;
      this.schedule(tier, wait);
    }
  }
}
