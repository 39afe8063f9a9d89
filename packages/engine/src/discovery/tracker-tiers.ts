/**
 * BEP 12 tiers, pure: trackers in a tier are shuffled once, tried in order until one answers,
 * and the one that answered moves to the front of its tier. Every tier is announced to (as
 * qBittorrent and libtorrent's `announce_to_all_tiers` do), so one dead tier never hides the
 * others. When every tracker of a tier failed in a row, the tier waits with a doubling back-off.
 */

export interface TierTracker { url: string; tier: number }

export const TIER_RETRY_MS = 15_000;
export const TIER_RETRY_MAX_MS = 30 * 60_000;

export class TrackerTiers {
  private readonly tiers: string[][];
  /** Per tier: index of the tracker to use next. */
  private readonly current: number[];
  /** Per tier: failures in a row, all trackers counted. */
  private readonly failures: number[];

  constructor(tiers: readonly (readonly string[])[], random: () => number = Math.random) {
    const seen = new Set<string>();
    this.tiers = [];
    for (const tier of tiers) {
      const urls = tier.filter((u) => /^(https?|udp):\/\//i.test(u) && !seen.has(u));
      urls.forEach((u) => seen.add(u));
      for (let i = urls.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [urls[i], urls[j]] = [urls[j], urls[i]];
      }
      if (urls.length) this.tiers.push(urls);
    }
    this.current = this.tiers.map(() => 0);
    this.failures = this.tiers.map(() => 0);
  }

  get count(): number {
    return this.tiers.length;
  }

  /** Every tracker, in tier order (for status). */
  all(): TierTracker[] {
    return this.tiers.flatMap((urls, tier) => urls.map((url) => ({ url, tier })));
  }

  /** The tracker to announce to in a tier. */
  active(tier: number): string {
    return this.tiers[tier][this.current[tier]];
  }

  /** The active tracker answered: it goes to the front of its tier (BEP 12). */
  succeeded(tier: number): void {
    const urls = this.tiers[tier];
    const [url] = urls.splice(this.current[tier], 1);
    urls.unshift(url);
    this.current[tier] = 0;
    this.failures[tier] = 0;
  }

  /**
   * The active tracker failed: the next one in the tier is tried. Returns how long to wait
   * before that: 0 while the tier still has untried trackers this round, a back-off after all
   * failed.
   */
  failed(tier: number): number {
    const urls = this.tiers[tier];
    this.failures[tier]++;
    this.current[tier] = (this.current[tier] + 1) % urls.length;
    if (this.failures[tier] % urls.length !== 0) return 0;
    const rounds = this.failures[tier] / urls.length;
    return Math.min(TIER_RETRY_MAX_MS, TIER_RETRY_MS * 2 ** (rounds - 1));
  }
}
