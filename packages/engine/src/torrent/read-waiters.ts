/**
 * Reads waiting for pieces to be verified on disk. A wait resolves once every piece of its range
 * is had, rejects when its signal aborts (at once if it already has) or the torrent closes, and
 * removes its abort listener when it ends: a long stream makes one wait per read. No timers.
 */
import { ClosedError, CtError } from '../errors.js';

interface Waiter { first: number; last: number; resolve(): void; reject(err: Error): void }

const abortReason = (signal: AbortSignal): Error =>
  signal.reason instanceof Error ? signal.reason : new CtError('ECLOSED', 'read aborted');

export class ReadWaiters {
  private waiters: Waiter[] = [];
  private closed = false;

  constructor(private readonly have: (piece: number) => boolean) {}

  /** Waits still pending. */
  get size(): number {
    return this.waiters.length;
  }

  wait(first: number, last: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.haveRange(first, last)) return Promise.resolve();
    if (this.closed) return Promise.reject(new ClosedError());
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(abortReason(signal as AbortSignal));
      };
      const waiter: Waiter = {
        first, last,
        resolve: () => { signal?.removeEventListener('abort', onAbort); resolve(); },
        reject: (err) => { signal?.removeEventListener('abort', onAbort); reject(err); },
      };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Pieces arrived: the waits they complete resolve. */
  wake(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.haveRange(w.first, w.last)) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiters) w.reject(new ClosedError());
    this.waiters = [];
  }

  private haveRange(first: number, last: number): boolean {
    for (let i = first; i <= last; i++) if (!this.have(i)) return false;
    return true;
  }
}
