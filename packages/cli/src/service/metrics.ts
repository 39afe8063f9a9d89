/**
 * `/metrics` of `ct serve`, Prometheus text format through prom-client. Everything but the mount's
 * read latency is read from the torrents at scrape time (collect callbacks): no timer, no work
 * while nobody scrapes. Per torrent (labels infohash, name) and in total:
 *   ct_torrents{state}, ct_downloaded_bytes_total (and ct_downloaded_bytes_all_total; each gauge G has G_all), ct_uploaded_bytes_total, ct_download_rate_bytes,
 *   ct_upload_rate_bytes, ct_peers, ct_seeds, ct_pieces{kind=have|total}, ct_hash_failures_total,
 *   ct_banned_peers, ct_wasted_bytes_total, ct_tracker_up{url}, ct_dht_nodes,
 *   ct_mount_read_seconds{result=ok|error} (a histogram of every read through the mount),
 *   ct_cache_bytes, ct_cache_limit_bytes, ct_cache_pieces, ct_cache_hits_total, ct_cache_misses_total,
 *   ct_cache_evictions_total (the bounded cache, with --cache-size),
 *   ct_http_requests_total{area,method,status} (every HTTP request answered: area api, dav, files,
 *   page, events, metrics; status as a class, 2xx..5xx).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CacheStats, TorrentStats } from '@ct/engine';
import type { TorrentView } from './api-types.js';

/** What the metrics read at each scrape: every torrent's view, and its engine stats while it runs. */
export type MetricsSource = () => { view: TorrentView; stats?: TorrentStats }[];
type Row = { view: TorrentView; stats: TorrentStats };

type Labels = 'infohash' | 'name';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK']);

export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly reads: Histogram<'result'>;
  private readonly requests: Counter<'area' | 'method' | 'status'>;
  /** The torrents as one scrape sees them: taken once in text(), read by every collect callback. */
  private rows: { view: TorrentView; stats?: TorrentStats }[] = [];

  constructor(private readonly source: MetricsSource, cache: () => CacheStats | undefined = () => undefined) {
    const registry = this.registry;
    const running = () => this.rows.filter((x): x is Row => x.stats !== undefined);
    // One metric per torrent and one for all of them, each filled from the engine at scrape time
    // (counters too: the engine keeps the running totals, so they are reset and set).
    const perTorrent = (name: string, help: string, value: (s: TorrentStats) => number, counter = false) => {
      const Kind = counter ? Counter : Gauge;
      const allName = counter ? name.replace(/_total$/, '_all_total') : `${name}_all`;
      const each: Counter<Labels> | Gauge<Labels> = new Kind<Labels>({
        name, help: `${help}, per torrent`, labelNames: ['infohash', 'name'], registers: [registry],
        collect: () => {
          each.reset();
          for (const { view, stats } of running()) each.inc({ infohash: view.id, name: view.name }, value(stats));
        },
      });
      const all: Counter | Gauge = new Kind({
        name: allName, help: `${help}, every torrent together`, registers: [registry],
        collect: () => {
          all.reset();
          all.inc(running().reduce((n, { stats }) => n + value(stats), 0));
        },
      });
    };
    perTorrent('ct_downloaded_bytes_total', 'payload bytes received since the torrent started', (s) => s.downloaded, true);
    perTorrent('ct_uploaded_bytes_total', 'payload bytes sent since the torrent started', (s) => s.uploaded, true);
    perTorrent('ct_wasted_bytes_total', 'bytes thrown away (failed hashes, duplicate blocks)', (s) => s.wasted, true);
    perTorrent('ct_hash_failures_total', 'pieces that failed their hash check', (s) => s.hashFailures, true);
    perTorrent('ct_download_rate_bytes', 'download rate in bytes per second', (s) => Math.round(s.downloadRate));
    perTorrent('ct_upload_rate_bytes', 'upload rate in bytes per second', (s) => Math.round(s.uploadRate));
    perTorrent('ct_peers', 'connected peers', (s) => s.peers);
    perTorrent('ct_seeds', 'connected peers that have every piece', (s) => s.seeds);
    perTorrent('ct_banned_peers', 'peers banned for bad data', (s) => s.bannedPeers);
    perTorrent('ct_verified_bytes', 'verified bytes on disk', (s) => s.verifiedBytes);
    const states = new Gauge({
      name: 'ct_torrents', help: 'torrents of the service by state', labelNames: ['state'], registers: [registry],
      collect: () => {
        states.reset();
        for (const { view } of this.rows) states.inc({ state: view.state });
      },
    });
    const pieces = new Gauge({
      name: 'ct_pieces', help: 'pieces verified (kind=have) and in the torrent (kind=total)', labelNames: ['infohash', 'name', 'kind'], registers: [registry],
      collect: () => {
        pieces.reset();
        for (const { view, stats: s } of running()) {
          pieces.set({ infohash: view.id, name: view.name, kind: 'have' }, s.piecesHave);
          pieces.set({ infohash: view.id, name: view.name, kind: 'total' }, s.piecesTotal);
        }
      },
    });
    const trackers = new Gauge({
      name: 'ct_tracker_up', help: '1 when the tracker answered its last announce, 0 when it failed or has not answered yet', labelNames: ['infohash', 'url'], registers: [registry],
      collect: () => {
        trackers.reset();
        for (const { view, stats } of running()) {
          for (const tr of stats.discovery?.trackers ?? []) trackers.set({ infohash: view.id, url: tr.url }, tr.state === 'working' ? 1 : 0);
        }
      },
    });
    const dht: Gauge = new Gauge({
      name: 'ct_dht_nodes', help: 'nodes in the DHT routing table (0 with the DHT off)', registers: [registry],
      collect: () => { dht.set(running().reduce((n, { stats }) => Math.max(n, stats.discovery?.dht.nodes ?? 0), 0)); },
    });
    const cacheMetric = (name: string, help: string, value: (c: CacheStats) => number, counter = false) => {
      const Kind = counter ? Counter : Gauge;
      const m: Counter | Gauge = new Kind({
        name, help, registers: [registry],
        collect: () => {
          m.reset();
          const c = cache();
          if (c) m.inc(value(c));
        },
      });
    };
    cacheMetric('ct_cache_bytes', 'bytes of verified pieces the bounded cache holds', (c) => c.used);
    cacheMetric('ct_cache_limit_bytes', 'the bounded cache\'s limit (cache.max_size)', (c) => c.max);
    cacheMetric('ct_cache_pieces', 'pieces the bounded cache holds', (c) => c.pieces);
    cacheMetric('ct_cache_hits_total', 'reads whose pieces were all on disk', (c) => c.hits, true);
    cacheMetric('ct_cache_misses_total', 'reads that waited for pieces to be fetched', (c) => c.misses, true);
    cacheMetric('ct_cache_evictions_total', 'pieces evicted to stay under the limit', (c) => c.evictions, true);
    this.reads = new Histogram({
      name: 'ct_mount_read_seconds', help: 'time a read through the mount took to answer', labelNames: ['result'], registers: [registry],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 180],
    });
    this.requests = new Counter({
      name: 'ct_http_requests_total', help: 'HTTP requests answered, by area (api, dav, files, page, events, metrics), method and status class',
      labelNames: ['area', 'method', 'status'], registers: [registry],
    });
  }

  /** For the API server's onAnswered: one request answered. Methods outside the known ones count as OTHER (labels stay bounded). */
  httpRequest(area: string, method: string, status: number): void {
    const m = KNOWN_METHODS.has(method) ? method : 'OTHER';
    this.requests.inc({ area, method: m, status: `${Math.floor(status / 100)}xx` });
  }

  /** For TorrentMount's onRead. */
  mountRead(seconds: number, ok: boolean): void {
    this.reads.observe({ result: ok ? 'ok' : 'error' }, seconds);
  }

  async text(): Promise<{ contentType: string; body: string }> {
    this.rows = this.source();
    try {
      return { contentType: this.registry.contentType, body: await this.registry.metrics() };
    } finally {
      this.rows = [];
    }
  }
}
