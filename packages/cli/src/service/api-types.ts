/**
 * What the HTTP API of `ct serve` sends and takes (docs/http-api.md), shared by the server
 * (api-server.ts, service.ts) and the commands that talk to it (service-client.ts).
 */
import type { CacheStats, DiscoveryStatus, PeerInfo } from '@ct/engine';

/** One torrent of the service, as `GET /api/v1/torrents` lists it. */
export interface TorrentView {
  /** The infohash, hex (an ID for every other call; a unique prefix or the name works too). */
  id: string;
  name: string;
  /** metadata (a magnet waiting for it), checking, downloading, idle, seeding, paused, error. */
  state: string;
  /** 0..1 of the whole torrent verified. */
  progress: number;
  size: number;
  verified: number;
  downloadRate: number;
  uploadRate: number;
  peers: number;
  seeds: number;
  downloadDir: string;
  addedAt: string;
  paused: boolean;
  category?: string;
  /** Where it is in the mount, when there is one and its metadata is known. */
  mountPath?: string;
  /** Where it is under /dav/ (the same path as in the mount), while it runs. */
  davPath?: string;
  /** The last thing that went wrong for it (a failed start, a fatal disk error). */
  error?: string;
}

/** One file of a torrent, as `GET /api/v1/torrents/ID` shows it. */
export interface FileView {
  path: string;
  length: number;
  downloaded: number;
  progress: number;
  /** 0: fetched only as far as it is read (deselected, or on demand); 1..7: fetched in the background. */
  priority: number;
  /** Where its bytes are served with Range (`/dav/...`, its path in the tree), while the torrent runs. */
  url?: string;
}

/** `GET /api/v1/torrents/ID`: the view, its own rate limits, each file's progress and priority, how its peers are found. */
export interface TorrentDetail extends TorrentView {
  limits: Limits;
  files: FileView[];
  /** 0 while a magnet's metadata is on its way. */
  pieceLength: number;
  pieceCount: number;
  magnet?: string;
  /** Its trackers, the DHT and PEX, while it runs. */
  discovery?: DiscoveryStatus;
}

/** `GET /api/v1/torrents/ID/pieces`: one character per piece (`r` under a read, `v` verified, `d` downloading, `e` evicted, `.` missing). */
export interface PieceMapView {
  pieceLength: number;
  map: string;
}

/** `POST /api/v1/inspect`: what a .torrent holds, before adding it. */
export interface InspectResult {
  id: string;
  name: string;
  size: number;
  /** Already in the service. */
  added: boolean;
  files: { path: string; length: number }[];
}

/** `GET /api/v1/session`: what the web page shows beside the list. */
export interface SessionView {
  version: string;
  limits: Limits;
  /** The bounded cache (cache.max_size), when there is one. */
  cache?: CacheStats;
  /** Where the torrents are mounted, when they are. */
  mountPoint?: string;
  /** Where the WebDAV share is (a path on this server). */
  webdav: string;
  downloadDir: string;
  /** Our BitTorrent listening address, and how many DHT nodes we know. */
  listen?: string;
  dhtNodes: number;
  /** The effective configuration, secrets shown as "<set>". */
  config: { key: string; value: unknown; origin: string }[];
}

/** Rate limits in bytes per second; 0 is none. */
export interface Limits {
  download: number;
  upload: number;
}

/** One connected peer (`GET /api/v1/torrents/ID/peers`): the engine's PeerInfo, rates rounded. */
export type PeerView = Pick<PeerInfo, 'address' | 'client' | 'outgoing' | 'downloadRate' | 'uploadRate' | 'progress'>;

/** `POST /api/v1/torrents`: exactly one of `magnet` (a magnet link or an infohash), `torrent` and `url`. */
export interface AddRequest {
  magnet?: string;
  torrent?: Buffer;
  /** An http(s) URL of a .torrent file, fetched by the service. */
  url?: string;
  downloadDir?: string;
  /** Peers to dial for it (HOST:PORT), kept across restarts. */
  peers?: string[];
  /** Added stopped: nothing is fetched or seeded until resumed. */
  paused?: boolean;
  /** Shown in the mount under `DIR/<category>/` (one path component). */
  category?: string;
  /** Only these files are fetched in the background (indexes, ranges `3-7` or globs, as `ct download --select`). */
  select?: string[];
}

export interface AddResult {
  id: string;
  name?: string;
  /** True for a magnet whose metadata is still on its way (HTTP 202). */
  pending: boolean;
}

/** What the API server needs from the service behind it. */
export interface ServiceApi {
  list(): TorrentView[];
  detail(id: string): TorrentDetail;
  add(req: AddRequest): Promise<AddResult>;
  /** Its data stays unless `deleteData`. */
  remove(id: string, deleteData?: boolean): Promise<void>;
  pause(id: string): Promise<TorrentView>;
  resume(id: string): Promise<TorrentView>;
  /** The session's limits, or one torrent's own. */
  limits(id?: string): Limits;
  /** Changes them now (and keeps a torrent's in its record); absent fields stay. */
  setLimits(id: string | undefined, limits: Partial<Limits>): Promise<Limits>;
  /** Fetches the files matching `patterns` in the background (`wanted`), or stops fetching them. */
  select(id: string, patterns: readonly string[], wanted: boolean): Promise<TorrentDetail>;
  /** Gives the files matching `patterns` a priority (0..7). */
  prioritize(id: string, patterns: readonly string[], priority: number): Promise<TorrentDetail>;
  peers(id: string): PeerView[];
  pieces(id: string): PieceMapView;
  inspect(req: Pick<AddRequest, 'torrent' | 'url'>): Promise<InspectResult>;
}

/** An error whose message the client should see, with its HTTP status. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}
