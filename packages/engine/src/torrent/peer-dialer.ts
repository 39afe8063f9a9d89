/**
 * Outgoing connection attempts with back-off. A peer given by the user that refuses or drops us is
 * retried for as long as the download runs (users often start the seeder after the leecher), with
 * exponential back-off so a dead address costs nothing. Pure: the torrent asks which addresses
 * are due and reports outcomes; the session does the dialing.
 */

interface Candidate {
  address: string;
  failures: number;
  nextAttemptAt: number;
  state: 'idle' | 'connecting' | 'connected';
  /** User-given peers are never dropped; discovered ones are after repeated failures. */
  persistent: boolean;
}

export interface DialerOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  /** A discovered (non-persistent) address is forgotten after this many failures in a row. */
  maxFailures: number;
}

// A first retry after 250 ms: a seeder that has just started (libtorrent drops connections for a
// torrent it has not finished adding) costs a streaming reader a quarter second, not two.
export const DEFAULT_DIALER: DialerOptions = { baseDelayMs: 250, maxDelayMs: 30_000, maxFailures: 5 };

export class PeerDialer {
  private readonly candidates = new Map<string, Candidate>();

  constructor(private readonly opts: DialerOptions = DEFAULT_DIALER) {}

  add(address: string, persistent: boolean, now: number): void {
    const existing = this.candidates.get(address);
    if (existing) {
      existing.persistent ||= persistent;
      return;
    }
    this.candidates.set(address, { address, failures: 0, nextAttemptAt: now, state: 'idle', persistent });
  }

  remove(address: string): void {
    this.candidates.delete(address);
  }

  /** Addresses to dial now (at most `limit`), marked as connecting. */
  due(now: number, limit: number): string[] {
    const out: string[] = [];
    for (const c of this.candidates.values()) {
      if (out.length >= limit) break;
      if (c.state === 'idle' && c.nextAttemptAt <= now) {
        c.state = 'connecting';
        out.push(c.address);
      }
    }
    return out;
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
