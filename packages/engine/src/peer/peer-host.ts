/**
 * The interface between one peer's protocol logic (PeerSession) and its torrent: what a session
 * asks (pieces, picks, where a block lands, blocks for uploads) and tells (blocks, piece sets,
 * interest, PEX, its end). Torrent implements it on a private object.
 */
import type { Bitfield } from '../util/bitfield.js';
import type { BlockRef } from '../wire/messages.js';
import type { BlockRequest } from '../picker/piece-picker.js';
import type { OwnExtendedHandshake } from './extensions.js';
import type { PexMessage } from './pex.js';
import type { UploadSource } from './upload-queue.js';
import type { TorrentBandwidth } from '../limits/bandwidth.js';

/**
 * What a PeerSession needs from its torrent. `P` is the session itself (PeerSession), a type
 * parameter so this file needs no import of it.
 */
export interface PeerHostOf<P> extends UploadSource {
  /** Our bitfield, sent after the handshake. */
  ownBitfield(): Bitfield;
  wants(index: number): boolean;
  isInteresting(peer: P): boolean;
  pick(peer: P, count: number): BlockRequest[];
  /** The most requests `peer` may keep out: its share of the torrent's budget of open pieces. */
  requestShare(peer: P): number;
  onBlock(peer: P, index: number, begin: number, block: Buffer): void;
  /**
   * Where the block `peer` is sending may land in place (a slice of its piece buffer), or
   * undefined. The block is then marked landing: nobody else is asked for it until it arrives
   * or its request is given up.
   */
  landingTarget(peer: P, index: number, begin: number, length: number): Buffer | undefined;
  /** Requests that will not be answered: give them back to the picker. */
  abandon(peer: P, refs: BlockRef[]): void;
  /** Availability bookkeeping: the peer announced pieces. */
  onPeerPieces(peer: P, pieces: Bitfield | 'all' | number): void;
  /** The peer replaced its piece set: these no longer count (a new set follows). */
  onPeerPiecesGone(peer: P, pieces: Bitfield | 'all'): void;
  onPeerInterest(peer: P): void;
  /** The connection ended; `reason` says why (ours or the peer's doing). */
  onPeerClosed(peer: P, reason: Error): void;
  /** What our extension handshake offers (ut_pex only for public torrents, our metadata size). */
  extensionOffer(): Omit<OwnExtendedHandshake, 'clientVersion' | 'reqq'>;
  readonly infoHash: Buffer;
  /** The info dictionary we serve over ut_metadata. */
  readonly infoBytes: Buffer;
  /** The torrent's rate limits: every byte read from a peer and every block sent is charged. */
  readonly bandwidth: TorrentBandwidth;
  /** Addresses a peer told us about over ut_pex. */
  onPex(peer: P, msg: PexMessage): void;
}
