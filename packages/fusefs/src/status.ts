/**
 * What `user.ct.status` (and its alias `user.torrent.status`, the name rqbit-fuse users script
 * against) answers, and what `ct status` prints: progress, bytes, pieces, peers and rates of a
 * torrent, of every torrent (the root), or of one file with its downloaded byte ranges.
 */
import type { CacheStats, DiscoveryStatus, Torrent, TorrentFile } from '@ct/engine';

export interface TorrentStatus {
  name: string;
  infoHash: string;
  state: string;
  /** 0..1 over the whole torrent (not only the wanted part). */
  progress: number;
  bytes: { verified: number; total: number; downloaded: number; uploaded: number };
  pieces: { have: number; total: number };
  peers: number;
  seeds: number;
  rates: { download: number; upload: number };
  /** Each tracker's state, last error and warning; the DHT; whether PEX is on (private: off). */
  discovery?: DiscoveryStatus;
}

export interface FileStatus {
  path: string;
  torrent: string;
  length: number;
  downloaded: number;
  progress: number;
  /** Verified byte ranges [start, end) inside the file. */
  ranges: [number, number][];
  peers: number;
  rates: { download: number; upload: number };
}

export interface RootStatus {
  torrents: TorrentStatus[];
  progress: number;
  bytes: { verified: number; total: number };
  peers: number;
  rates: { download: number; upload: number };
  /** The bounded cache (size, limit, hits, misses, evictions), when there is one. */
  cache?: CacheStats;
}

export function torrentStatus(t: Torrent): TorrentStatus {
  const s = t.stats();
  return {
    name: t.metainfo.name,
    infoHash: t.infoHashHex,
    state: s.status,
    progress: s.totalBytes === 0 ? 1 : s.verifiedBytes / s.totalBytes,
    bytes: { verified: s.verifiedBytes, total: s.totalBytes, downloaded: s.downloaded, uploaded: s.uploaded },
    pieces: { have: s.piecesHave, total: s.piecesTotal },
    peers: s.peers,
    seeds: s.seeds,
    rates: { download: Math.round(s.downloadRate), upload: Math.round(s.uploadRate) },
    discovery: s.discovery,
  };
}

export function fileStatus(t: Torrent, f: TorrentFile): FileStatus {
  const ranges = f.verifiedRanges();
  const downloaded = ranges.reduce((sum, [a, b]) => sum + (b - a), 0);
  const s = t.stats();
  return {
    path: f.path,
    torrent: t.metainfo.name,
    length: f.length,
    downloaded,
    progress: f.length === 0 ? 1 : downloaded / f.length,
    ranges,
    peers: s.peers,
    rates: { download: Math.round(s.downloadRate), upload: Math.round(s.uploadRate) },
  };
}

export function rootStatus(torrents: readonly Torrent[], cache?: CacheStats): RootStatus {
  const list = torrents.map(torrentStatus);
  const verified = list.reduce((n, t) => n + t.bytes.verified, 0);
  const total = list.reduce((n, t) => n + t.bytes.total, 0);
  return {
    torrents: list,
    progress: total === 0 ? 1 : verified / total,
    bytes: { verified, total },
    peers: list.reduce((n, t) => n + t.peers, 0),
    rates: {
      download: list.reduce((n, t) => n + t.rates.download, 0),
      upload: list.reduce((n, t) => n + t.rates.upload, 0),
    },
    ...(cache ? { cache } : {}),
  };
}

/** Each torrent's status with its files, at `pathOf(t)` (what `ct status` prints per torrent). */
export function torrentsWithFiles(torrents: Iterable<Torrent>, pathOf: (t: Torrent) => string): (TorrentStatus & { path: string; files: FileStatus[] })[] {
  return [...torrents].map((t) => ({ ...torrentStatus(t), path: pathOf(t), files: t.files.map((f) => fileStatus(t, f)) }));
}
