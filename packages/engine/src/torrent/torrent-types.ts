/**
 * The public shapes of a torrent: its state, stats, events and options (torrent.ts implements
 * them; splitting them out keeps that file about behaviour).
 */
import type { CtError } from '../errors.js';
import type { DiscoveryStatus } from '../discovery/torrent-discovery.js';
import type { PeerSource } from '../discovery/peer-source.js';
import type { HasherPool } from '../hash/hasher-pool.js';
import type { PeerSessionOptions } from '../peer/peer-options.js';
import type { RateLimits, SessionBandwidth } from '../limits/bandwidth.js';
import type { FdPool } from '../storage/fd-pool.js';
import type { Ticker } from '../util/ticker.js';
import type { DiskCache } from '../cache/disk-cache.js';

export type TorrentState = 'checking' | 'downloading' | 'seeding' | 'error' | 'closed';

export interface TorrentStats {
  state: TorrentState;
  /** The state as users see it: `idle` while downloading with nothing wanted now (on demand, no read; or every selected file here). */
  status: TorrentState | 'idle';
  /** Verified bytes we have (of pieces with any priority). */
  verifiedBytes: number;
  totalBytes: number;
  /** 0..1 over wanted pieces. */
  progress: number;
  piecesHave: number;
  piecesTotal: number;
  /** Payload bytes received / sent since start. */
  downloaded: number;
  uploaded: number;
  downloadRate: number;
  uploadRate: number;
  peers: number;
  seeds: number;
  /** Bytes thrown away: failed hashes and duplicate endgame blocks. */
  wasted: number;
  hashFailures: number;
  bannedPeers: number;
  /** Trackers, DHT and PEX, when the session runs discovery for this torrent. */
  discovery?: DiscoveryStatus;
}

export interface PeerInfo {
  address: string;
  client: string;
  outgoing: boolean;
  downloadRate: number;
  uploadRate: number;
  progress: number;
  snubbed: boolean;
  requests: number;
}

export interface TorrentEvents {
  /**
   * The resume check finished; `have` pieces were already on disk, of which `trusted` were taken
   * from the resume data without hashing and the rest were hashed (`hashed` pieces checked).
   */
  ready: [{ have: number; trusted: number; hashed: number }];
  piece: [number];
  /** Every wanted piece is verified and on disk. */
  done: [];
  'peer-connected': [string];
  /** A peer's connection ended: its address and why ("the peer closed the connection", a protocol error, ...). */
  'peer-disconnected': [string, string];
  'peer-banned': [string, string];
  'hash-failed': [number, string[]];
  /** A piece we had failed its check before an upload (changed on disk): it is fetched again. */
  'piece-lost': [number];
  /** The bounded cache evicted a piece: no longer had, its bytes released, fetched again when read. */
  'piece-evicted': [number];
  /** Non-fatal trouble worth logging (evicted bytes the filesystem could not release). */
  warning: [string];
  stats: [TorrentStats];
  /** Fatal: the torrent stops (disk full, files unwritable). */
  error: [CtError];
  /** close() was called: the torrent is gone from its session. */
  closed: [];
  /** New addresses entered the peer list (from a tracker, the DHT, PEX, a magnet, the user). */
  'peers-found': [PeerSource, string[]];
}

export interface TorrentOptions {
  downloadDir: string;
  hasher: HasherPool;
  /** Opens files read-only and never writes: a pure seeder of existing data. */
  readOnly?: boolean;
  /** Download nothing unless a reader asks for it or a file is selected. */
  onDemand?: boolean;
  /**
   * A priority for some files from the start (before any file is created): asked once per file
   * with its path inside the torrent ('/'-separated, as TorrentFile.path); 0 is deselected,
   * 1..7 fetched in the background, undefined the default. Same as select()/deselect() later.
   */
  filePriority?: (path: string) => number | undefined;
  /**
   * A snapshot from Torrent.resumeData() of an earlier run (as stored, JSON): pieces in files
   * that carry the same stamp (inode, size, mtime) are trusted without hashing; files that changed
   * are checked again. Anything that is not a valid snapshot of this torrent is ignored (a full check).
   */
  resume?: unknown;
  /** Connections to this torrent (default 50). */
  maxPeers?: number;
  /** Connections to this torrent from one IP address (default 8). */
  maxPeersPerAddress?: number;
  uploadSlots?: number;
  /**
   * Stop requesting while this many bytes of complete pieces wait for hashing or the disk. Without
   * it, a CPU- or disk-bound moment piled up 110 pieces (110 MiB) in memory during a 1 GiB run.
   */
  maxUnwrittenBytes?: number;
  /**
   * Bytes of piece buffers a download holds at most: pieces requested, arriving, or waiting for
   * the hash and the disk (default 32 MiB, never under 4 pieces nor over 512), shared equally
   * among the peers we download from. New pieces wait beyond it.
   */
  pieceBufferBytes?: number;
  /** Bytes of pieces kept in memory to serve uploads. */
  uploadCacheBytes?: number;
  peer?: Partial<PeerSessionOptions>;
  /** Our peer id (decides which of two connections to one peer stays). */
  peerId?: Buffer;
  /** Our listening port, told to peers in the extension handshake (so PEX can pass us on). */
  listenPort?: number;
  /** How often peers hear our ut_pex view (BEP 11 asks for at most once a minute). */
  pexIntervalMs?: number;
  /** This torrent's download and upload limits in bytes per second (0: none; the session's apply too). */
  rateLimits?: Partial<RateLimits>;
  /** @internal The session's limits, which this torrent's transfers are charged to as well. */
  bandwidth?: SessionBandwidth;
  /** @internal The session's budget of open file descriptors (else the torrent has its own). */
  fdPool?: FdPool;
  /** @internal The session's once-a-second tick (else the torrent runs its own timer). */
  ticker?: Ticker;
  /** @internal The session's bounded cache: an on-demand torrent's unselected pieces are evicted from it. */
  cache?: DiskCache;
  /** @internal Selected pieces are evictable too (`cache.evict_selected`). */
  cacheEvictSelected?: boolean;
}

