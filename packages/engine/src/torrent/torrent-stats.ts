/**
 * A torrent's numbers for users: its stats and its peer list, computed from the parts that hold
 * them (picker, peers, assembler, rate meters). Pure reads, no side effects.
 */
import type { DiscoveryStatus } from '../discovery/torrent-discovery.js';
import type { PeerSession } from '../peer/peer-session.js';
import type { PiecePicker } from '../picker/piece-picker.js';
import type { RateMeter } from '../util/rate-meter.js';
import type { PieceAssembler } from './piece-assembler.js';
import type { PeerInfo, TorrentState, TorrentStats } from './torrent-types.js';

export interface StatsSources {
  state: TorrentState;
  totalBytes: number;
  pieceCount: number;
  picker: PiecePicker;
  peers: Iterable<PeerSession>;
  assembler: PieceAssembler;
  down: RateMeter;
  up: RateMeter;
  bannedPeers: number;
  discovery: DiscoveryStatus | undefined;
}

export function torrentStats(s: StatsSources): TorrentStats {
  const verifiedBytes = s.picker.bytesHave;
  const wantedTotal = verifiedBytes + s.picker.bytesWantedRemaining;
  let peers = 0;
  let seeds = 0;
  for (const p of s.peers) {
    peers++;
    if (p.isSeed) seeds++;
  }
  return {
    state: s.state,
    // An on-demand torrent with no read in progress (or whose selected files are all here)
    // wants nothing now: idle, not downloading.
    status: s.state === 'downloading' && s.picker.done ? 'idle' : s.state,
    verifiedBytes,
    totalBytes: s.totalBytes,
    progress: wantedTotal === 0 ? 1 : verifiedBytes / wantedTotal,
    piecesHave: s.picker.have.count,
    piecesTotal: s.pieceCount,
    downloaded: s.down.total,
    uploaded: s.up.total,
    downloadRate: s.down.rate(),
    uploadRate: s.up.rate(),
    peers,
    seeds,
    wasted: s.assembler.wasted,
    hashFailures: s.assembler.hashFailures,
    bannedPeers: s.bannedPeers,
    discovery: s.discovery,
  };
}

export function peerInfo(p: PeerSession, now: number): PeerInfo {
  return {
    address: p.key,
    client: p.clientName,
    outgoing: p.outgoing,
    downloadRate: p.downloadRate.rate(now),
    uploadRate: p.uploadRate.rate(now),
    progress: p.progress,
    snubbed: p.snubbed,
    requests: p.requestsInFlight,
  };
}
