/**
 * Which peer asks for what when the torrent's needs change: after a priority change, peers
 * refill (the ones with the shortest expected queue first when a reader waits); a pending read's
 * blocks that no peer had room for make the best peer cancel its queued bulk requests so they
 * come first (preemption); and a block under a read that a peer has sat on too long may be asked
 * of another peer once more (rescue). Pure over the peers and the picker: no sockets or timers.
 */
import type { PeerSession } from '../peer/peer-session.js';
import type { PiecePicker } from '../picker/piece-picker.js';
import { BLOCK_SIZE } from '../wire/messages.js';

/**
 * Priorities changed: peers may have become interesting, and requests may be due. For a reader
 * (`urgent`), the peers with the shortest expected queue pick first, skipping request batching,
 * so its blocks go where they will arrive soonest.
 */
export function wakePeers(peers: Iterable<PeerSession>, urgent: boolean, now: number): void {
  const list = [...peers];
  if (urgent) list.sort((a, b) => a.expectedQueueMs(now) - b.expectedQueueMs(now));
  for (const p of list) {
    if (!p.amInterested) p.updateInterest();
    p.fillRequests(urgent);
  }
}

/**
 * A pending read's blocks not yet requested would wait behind every queued request, even at a
 * peer with room for them. Peers serve requests in order, so the peer with the shortest expected
 * queue that has the piece cancels its queued requests not under a read (PeerSession.preempt)
 * and asks for the read's blocks first; the cancelled blocks are fetched afterwards. A peer whose
 * queue drains within PREEMPT_UNLESS_QUEUE_MS and has room needs no preemption.
 */
/** A queue shorter than this (at the peer's current rate) is not worth cancelling for a read. */
const PREEMPT_UNLESS_QUEUE_MS = 250;

export function preemptForReads(peers: Iterable<PeerSession>, picker: PiecePicker, underReads: ReadonlySet<number>, now: number): void {
  let missing = 0;
  const pieces: number[] = [];
  for (const i of underReads) {
    const n = picker.unrequestedBlocks(i);
    if (n > 0) { pieces.push(i); missing += n; }
  }
  if (missing === 0) return;
  let best: PeerSession | undefined;
  let bestMs = Infinity;
  for (const p of peers) {
    if (p.peerChoking || !p.amInterested || p.snubbed) continue;
    if (!pieces.some((i) => p.has(i))) continue;
    const ms = p.expectedQueueMs(now);
    if (p.room >= missing && ms <= PREEMPT_UNLESS_QUEUE_MS) continue;
    // A peer that delivered nothing lately has an infinite expected queue: still a candidate.
    if (!best || ms < bestMs) { best = p; bestMs = ms; }
  }
  // Readahead requests are cancelled too: they would delay the read as much as any other.
  if (best && best.preempt((i) => underReads.has(i), now) > 0) best.fillRequests(true);
}

/**
 * A reader waits on blocks a peer has not delivered for a while: allow one more copy from
 * another peer (libtorrent does the same for time-critical pieces). A request is overdue after a
 * second, or three times the peer's time to deliver its queue at its current rate (at most the
 * request timeout). Returns whether any block was marked (then peers should refill).
 */
export function rescueOverdue(peers: Iterable<PeerSession>, picker: PiecePicker, requestTimeoutMs: number, now: number): boolean {
  let marked = false;
  for (const p of peers) {
    // A peer delivering nothing has no queue time to wait for: a second is enough.
    const rate = p.downloadRate.rate(now);
    const queueMs = (p.requestsInFlight * BLOCK_SIZE * 1000) / rate;
    const ageMs = rate > 0 ? Math.max(1000, Math.min(3 * queueMs, requestTimeoutMs)) : 1000;
    for (const ref of p.overdueRequests(now, ageMs, (i) => picker.isCritical(i))) {
      picker.markOverdue(ref.index, ref.begin);
      marked = true;
    }
  }
  return marked;
}
