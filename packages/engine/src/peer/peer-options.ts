/**
 * A peer connection's tunables and their defaults, resolved once (Torrent spreads the user's
 * `peer` options over these).
 */
import { ADVERTISED_REQQ, CLIENT_VERSION } from './extensions.js';

export interface PeerSessionOptions {
  /** No block for this long while requests are out: the peer is snubbed, its requests re-picked. */
  requestTimeoutMs: number;
  /** Queued upload requests per peer; more are rejected (bittorrent-protocol queues unbounded). */
  maxUploadQueue: number;
  /** Stop reading blocks for a peer while this much is waiting in its socket. */
  maxUploadBacklog: number;
  clientVersion: string;
}

export const DEFAULT_PEER_OPTIONS: PeerSessionOptions = {
  requestTimeoutMs: 20_000,
  maxUploadQueue: ADVERTISED_REQQ,
  maxUploadBacklog: 1024 * 1024,
  clientVersion: CLIENT_VERSION,
};
