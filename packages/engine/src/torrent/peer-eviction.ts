/**
 * Which peer makes room when a torrent is at its connection cap and another one arrives. Without
 * this, 60 peers that handshook and then said nothing held all 50 slots of a torrent and a real
 * leecher never got in (issue 10). Only a useless peer is evicted: connected for a while, no
 * payload either way, neither side interested; of those, the one silent the longest. A cap full
 * of useful peers refuses the newcomer instead (libtorrent weighs peers much the same way).
 * Pure.
 */

export interface EvictionCandidate {
  key: string;
  connectedAt: number;
  /** When its last complete message arrived. */
  lastMessageAt: number;
  /** Payload bytes exchanged with it, each way. */
  downloaded: number;
  uploaded: number;
  peerInterested: boolean;
  amInterested: boolean;
}

/** A peer gets this long to show what it is before it may be evicted. */
export const EVICTION_GRACE_MS = 5_000;

export function pickEvictee(candidates: Iterable<EvictionCandidate>, now: number, graceMs = EVICTION_GRACE_MS): string | undefined {
  let best: EvictionCandidate | undefined;
  for (const c of candidates) {
    if (now - c.connectedAt < graceMs) continue;
    if (c.downloaded > 0 || c.uploaded > 0 || c.peerInterested || c.amInterested) continue;
    if (!best || c.lastMessageAt < best.lastMessageAt) best = c;
  }
  return best?.key;
}
