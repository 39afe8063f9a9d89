/**
 * Incoming connections that have not completed a handshake yet, bounded apart from established
 * ones: in all, and per remote address. Without this, 300 connections that never sent a byte
 * held every one of the process's 200 slots until their handshake timeout, and a real peer
 * could not get in (issue 10). When a bound is reached the oldest half-open connection (of that
 * address first) makes room: a real peer handshakes within a round trip, a connection still
 * silent after many newer ones arrived is the likeliest to be junk. Pure: the caller closes what
 * this says to close.
 */

export interface HalfOpenLimits {
  /** Incoming connections waiting for their handshake, in all. */
  maxHalfOpen: number;
  /** The same, from one remote address (IP, any port). */
  maxHalfOpenPerAddress: number;
}

export const DEFAULT_HALF_OPEN_LIMITS: HalfOpenLimits = { maxHalfOpen: 64, maxHalfOpenPerAddress: 8 };

export class HalfOpenTable<C> {
  /** In arrival order (Map keeps insertion order): the first entry is the oldest. */
  private readonly entries = new Map<C, string>();
  private readonly perAddress = new Map<string, number>();

  constructor(private readonly limits: HalfOpenLimits = DEFAULT_HALF_OPEN_LIMITS) {}

  get size(): number {
    return this.entries.size;
  }

  /** Records a new connection from `host`; returns the older ones to close to stay within bounds. */
  admit(conn: C, host: string): C[] {
    const evict: C[] = [];
    if ((this.perAddress.get(host) ?? 0) >= this.limits.maxHalfOpenPerAddress) {
      for (const [c, h] of this.entries) if (h === host) { evict.push(c); this.remove(c); break; }
    }
    if (this.entries.size >= this.limits.maxHalfOpen) {
      const oldest = this.entries.keys().next().value as C;
      evict.push(oldest);
      this.remove(oldest);
    }
    this.entries.set(conn, host);
    this.perAddress.set(host, (this.perAddress.get(host) ?? 0) + 1);
    return evict;
  }

  /** The connection handshook or closed. */
  remove(conn: C): void {
    const host = this.entries.get(conn);
    if (host === undefined) return;
    this.entries.delete(conn);
    const n = (this.perAddress.get(host) ?? 1) - 1;
    if (n === 0) this.perAddress.delete(host);
    else this.perAddress.set(host, n);
  }
}
