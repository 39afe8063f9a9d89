/**
 * What the HTTP API of `ct serve` sends and takes (docs/http-api.md), shared by the server
 * (api-server.ts, service.ts) and the commands that talk to it (service-client.ts).
 */
import type { PeerInfo } from '@ct/engine';

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
}

/** `GET /api/v1/torrents/ID`: the view, its own rate limits and each file's progress and priority. */
export interface TorrentDetail extends TorrentView {
  limits: Limits;
  files: FileView[];
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
  peers(id: string): PeerView[];
}

/** An error whose message the client should see, with its HTTP status. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}
