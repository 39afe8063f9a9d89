/**
 * Waiting in tests without sleeping: for an event, for a condition, for a torrent to finish, each
 * with a deadline that fails loudly and says what did not happen. Sleeps that assume something
 * happened meanwhile make tests pass by luck on a fast machine and fail on a loaded one.
 */
import type { EventEmitter } from 'node:events';

export class WaitTimeout extends Error {}

/**
 * The arguments of the first `event` for which `until` holds (any, when left out). Rejects after
 * `timeoutMs` with `what` in the message.
 */
export function waitFor<A extends unknown[] = unknown[]>(
  emitter: Pick<EventEmitter, 'on' | 'off'>, event: string,
  opts: { timeoutMs?: number; what?: string; until?: (...args: A) => boolean } = {},
): Promise<A> {
  const { timeoutMs = 30_000, what = `'${event}'`, until } = opts;
  return new Promise<A>((resolve, reject) => {
    const listener = (...args: unknown[]) => {
      if (until && !until(...(args as A))) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args as A);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new WaitTimeout(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    emitter.on(event, listener);
  });
}

/** Resolves once `cond()` is true (checked every `intervalMs`); rejects after `timeoutMs`. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new WaitTimeout(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A torrent-like emitter that says when it is done. */
interface Finishing extends Pick<EventEmitter, 'on' | 'off'> {
  readonly isDone: boolean;
  readonly metainfo: { name: string };
}

/** Resolves when `t` has every wanted piece (at once if it has). */
export async function whenDone(t: Finishing, timeoutMs = 60_000): Promise<void> {
  if (t.isDone) return;
  await waitFor(t, 'done', { timeoutMs, what: `${t.metainfo.name} to complete` });
}
