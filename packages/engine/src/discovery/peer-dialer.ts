/**
 * The torrent's peer list and its outgoing connection attempts with back-off. A peer given by the
 * user that refuses or drops us is retried for as long as the download runs (users often start the
 * seeder after the leecher), with exponential back-off so a dead address costs nothing.
 * Discovered peers (trackers, DHT, PEX, magnet `x.pe`) are deduplicated by address, forgotten
 * after repeated failures, and bounded in number; when several are due, the best score goes first:
 * user-given, then those that never failed, then by source (a peer another peer vouched for over
 * PEX or a tracker listed beats a DHT result). Pure: the torrent asks which addresses are due and
 * reports outcomes; the session does the dialing.
 */

import type { PeerSource } from './peer-source.js';

export type { PeerSource };

const SOURCE_RANK: Record<PeerSource, number> = { user: 0, magnet: 1, incoming: 2, tracker: 3, pex: 3, dht: 4 };

interface Candidate {
  address: string;
  failures: number;
  nextAttemptAt: number;
  state: 'idle' | 'connecting' | 'connected';
  /** User-given peers are never dropped; discovered ones are after repeated failures. */
  persistent: boolean;
  source: PeerSource;
}

export interface DialerOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  /** A discovered (non-persistent) address is forgotten after this many failures in a row. */
  maxFailures: number;
  /** Discovered addresses kept at most; user-given ones always fit. */
  maxCandidates: number;
}

// A first retry after 250 ms: a seeder that has just started (libtorrent drops connections for a
// torrent it has not finished adding) costs a streaming reader a quarter second, not two.
export const DEFAULT_DIALER: DialerOptions = { baseDelayMs: 250, maxDelayMs: 30_000, maxFailures: 5, maxCandidates: 1000 };

export class PeerDialer {
  private readonly candidates = new Map<string, Candidate>();

  constructor(private readonly opts: DialerOptions = DEFAULT_DIALER) {}

  /** Adds an address; returns false when it was known already or the list is full. */
  add(address: string, persistent: boolean, now: number, source: PeerSource = persistent ? 'user' : 'tracker'): boolean {
    const existing = this.candidates.get(address);
    if (existing) {
      existing.persistent ||= persistent;
      if (SOURCE_RANK[source] < SOURCE_RANK[existing.source]) existing.source = source;
      return false;
    }
    if (!persistent && this.candidates.size >= this.opts.maxCandidates && !this.evictOne()) return false;
    this.candidates.set(address, { address, failures: 0, nextAttemptAt: now, state: 'idle', persistent, source });
    return true;
  }

  /** Makes room: drops the idle discovered address that failed most (one that failed at all). */
  private evictOne(): boolean {
    let worst: Candidate | undefined;
    for (const c of this.candidates.values()) {
      if (c.persistent || c.state !== 'idle' || c.failures === 0) continue;
      if (!worst || c.failures > worst.failures) worst = c;
    }
    if (worst) this.candidates.delete(worst.address);
    return worst !== undefined;
  }

  remove(address: string): void {
    this.candidates.delete(address);
  }

  /**
   * Addresses to dial now (at most `limit`), marked as connecting. `userOnly`: just the ones the
   * user gave (a seeder dials those: some clients never dial loopback or LAN peers themselves).
   */
  due(now: number, limit: number, userOnly = false): string[] {
    if (limit <= 0) return [];
    const ready: Candidate[] = [];
    for (const c of this.candidates.values()) if (c.state === 'idle' && c.nextAttemptAt <= now && (!userOnly || c.persistent)) ready.push(c);
    ready.sort((a, b) => Number(b.persistent) - Number(a.persistent) || a.failures - b.failures || SOURCE_RANK[a.source] - SOURCE_RANK[b.source]);
    return ready.slice(0, limit).map((c) => {
      c.state = 'connecting';
      return c.address;
    });
  }

  connected(address: string): void {
    const c = this.candidates.get(address);
    if (c) {
      c.state = 'connected';
      c.failures = 0;
    }
  }

  /** The attempt failed or the connection ended; schedules the next try. */
  disconnected(address: string, now: number, failed: boolean): void {
    const c = this.candidates.get(address);
    if (!c) return;
    c.state = 'idle';
    if (failed) c.failures++;
    if (!c.persistent && c.failures >= this.opts.maxFailures) {
      this.candidates.delete(address);
      return;
    }
    const delay = failed ? Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** Math.max(0, c.failures - 1)) : this.opts.baseDelayMs;
    c.nextAttemptAt = now + delay;
  }

  /** When the earliest idle candidate becomes due (to wake up then rather than at a tick). */
  nextAttemptAt(): number | undefined {
    let next: number | undefined;
    for (const c of this.candidates.values()) if (c.state === 'idle' && (next === undefined || c.nextAttemptAt < next)) next = c.nextAttemptAt;
    return next;
  }

  isKnown(address: string): boolean {
    return this.candidates.has(address);
  }

  get size(): number {
    return this.candidates.size;
  }
}
