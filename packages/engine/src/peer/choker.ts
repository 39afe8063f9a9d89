/**
 * Who may download from us. Tit-for-tat while leeching (unchoke the peers that give us the most),
 * round-robin by upload while seeding (give everyone a turn; fastest takers are not favoured), and
 * one optimistic unchoke rotated every few rounds so newcomers get a chance to prove themselves.
 * Pure: the torrent calls `decide` every round with a snapshot of its peers.
 */

export interface ChokeCandidate {
  key: string;
  interested: boolean;
  /** Bytes/s we receive from this peer (tit-for-tat currency). */
  downloadRate: number;
  /** Bytes we have sent to this peer in total (round-robin order while seeding). */
  uploadedTotal: number;
  /** When this peer was last picked optimistically (0 = never). */
  lastOptimistic: number;
}

export interface ChokeDecision {
  unchoke: Set<string>;
  optimistic: string | undefined;
}

export function decideUnchokes(
  peers: readonly ChokeCandidate[],
  opts: { slots: number; seeding: boolean; rotateOptimistic: boolean; currentOptimistic: string | undefined },
): ChokeDecision {
  const interested = peers.filter((p) => p.interested);
  const ranked = [...interested].sort(opts.seeding
    ? (a, b) => a.uploadedTotal - b.uploadedTotal
    : (a, b) => b.downloadRate - a.downloadRate);
  const regular = ranked.slice(0, Math.max(0, opts.slots - 1));
  const unchoke = new Set(regular.map((p) => p.key));
  const rest = ranked.filter((p) => !unchoke.has(p.key));
  let optimistic = opts.currentOptimistic;
  if (opts.rotateOptimistic || !rest.some((p) => p.key === optimistic)) {
    // The peer that waited longest since its last optimistic turn.
    optimistic = [...rest].sort((a, b) => a.lastOptimistic - b.lastOptimistic)[0]?.key;
  }
  if (optimistic !== undefined) unchoke.add(optimistic);
  return { unchoke, optimistic };
}
