/**
 * Finding peers for one infohash: its trackers (tracker-announcer.ts) and the session's DHT
 * node. It runs from the moment a torrent or a magnet is added; for a magnet it feeds the
 * metadata fetch first, then the torrent. Private torrents (BEP 27) use their trackers only.
 *
 * DHT cadence: a lookup at once, then every `dhtRetryMs` while the torrent has no peer, every
 * `dhtIntervalMs` (15 min, as libtorrent) once it has; each round also announces us once we can
 * serve the torrent (after its metadata is known).
 */
import { TypedEmitter } from '../util/typed-emitter.js';
import type { PeerSource } from './peer-source.js';
import type { DhtService } from './dht.js';
import { TrackerAnnouncer, type TrackerStatus } from './tracker-announcer.js';

export interface DiscoveryStatus {
  trackers: TrackerStatus[];
  dht: { enabled: boolean; nodes: number; peersFound: number };
  pex: boolean;
}

export interface DiscoveryOptions {
  infoHash: Buffer;
  peerId: Buffer;
  /** Our listening port (announced). */
  port: number;
  trackers: readonly (readonly string[])[];
  private: boolean;
  dht?: DhtService;
  /** Transfer figures for tracker announces. */
  stats(): { uploaded: number; downloaded: number; left: number };
  /** Whether anyone is connected (decides the DHT cadence). */
  hasPeers(): boolean;
  trackerTimeoutMs?: number;
  dhtIntervalMs?: number;
  dhtRetryMs?: number;
}

/** DHT cadence: re-announce every 15 min while we have peers, retry every 10 s while we have none. */
export const DEFAULT_DHT_CADENCE = { intervalMs: 15 * 60_000, retryMs: 10_000 } as const;

export interface DiscoveryEvents {
  peers: [string[], PeerSource];
}

export class TorrentDiscovery extends TypedEmitter<DiscoveryEvents> {
  private readonly announcer: TrackerAnnouncer | undefined;
  private readonly infoHashHex: string;
  private dhtTimer: NodeJS.Timeout | undefined;
  private dhtPeers = 0;
  /** Announce on the DHT (not while we are only fetching metadata: we could not serve yet). */
  private announceToDht = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private readonly onDhtPeer = (infoHashHex: string, address: string) => {
    if (infoHashHex !== this.infoHashHex || this.stopped) return;
    this.dhtPeers++;
    this.emit('peers', [address], 'dht');
  };

  constructor(private opts: DiscoveryOptions) {
    super();
    this.infoHashHex = opts.infoHash.toString('hex');
    if (opts.trackers.length) {
      this.announcer = new TrackerAnnouncer(opts.trackers, {
        infoHash: opts.infoHash, peerId: opts.peerId, port: opts.port, timeoutMs: opts.trackerTimeoutMs,
        stats: () => this.opts.stats(),
      });
      this.announcer.on('peers', (peers) => this.emit('peers', peers, 'tracker'));
    }
  }

  private get useDht(): boolean {
    return !!this.opts.dht && !this.opts.private;
  }

  start(): void {
    this.announcer?.start();
    if (this.useDht) {
      this.opts.dht?.on('peer', this.onDhtPeer);
      this.dhtRound();
    }
  }

  /** The metadata arrived: from now on the figures and peer count come from the torrent, and we announce. */
  servingTorrent(stats: DiscoveryOptions['stats'], hasPeers: DiscoveryOptions['hasPeers'], isPrivate: boolean): void {
    this.opts = { ...this.opts, stats, hasPeers, private: isPrivate };
    this.announceToDht = true;
    if (this.useDht) this.dhtRound();
  }

  completed(): void {
    this.announcer?.completed();
  }

  private dhtRound(): void {
    clearTimeout(this.dhtTimer);
    const dht = this.opts.dht;
    if (this.stopped || !dht || !this.useDht) return;
    if (this.announceToDht) dht.announce(this.opts.infoHash, this.opts.port);
    else dht.lookup(this.opts.infoHash);
    const wait = this.opts.hasPeers() ? this.opts.dhtIntervalMs ?? DEFAULT_DHT_CADENCE.intervalMs : this.opts.dhtRetryMs ?? DEFAULT_DHT_CADENCE.retryMs;
    this.dhtTimer = setTimeout(() => this.dhtRound(), wait);
    this.dhtTimer.unref();
  }

  /** Sends `stopped` to the trackers (bounded wait); every call waits for the same stop. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.dhtTimer);
    this.opts.dht?.off('peer', this.onDhtPeer);
    await this.announcer?.stop();
  }

  status(): DiscoveryStatus {
    return {
      trackers: this.announcer?.status() ?? [],
      dht: { enabled: this.useDht, nodes: this.useDht ? this.opts.dht?.nodeCount ?? 0 : 0, peersFound: this.dhtPeers },
      pex: !this.opts.private,
    };
  }
}
