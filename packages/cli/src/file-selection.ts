/**
 * `ct download --select / --exclude / --list`: which files of a torrent to fetch. A pattern is a
 * 1-based index (as `--list` numbers the files), a range `3-7`, or a glob matched against the
 * file's path inside the torrent (`*.mkv`, `subs/**`). Pure.
 */
import picomatch from 'picomatch';
import { UsageError } from '@ct/engine';

export function parsePatterns(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

/** Which of `paths` (in --list order) are wanted: selected (all when no --select) and not excluded. */
export function selectFiles(paths: readonly string[], select: readonly string[] | undefined, exclude: readonly string[] | undefined): boolean[] {
  const matchers = (patterns: readonly string[]) => patterns.map((p) => matcher(p, paths.length));
  const sel = select?.length ? matchers(select) : undefined;
  const exc = exclude?.length ? matchers(exclude) : [];
  const wanted = paths.map((p, i) => (!sel || sel.some((m) => m(p, i + 1))) && !exc.some((m) => m(p, i + 1)));
  if (sel && !wanted.some(Boolean)) throw new UsageError(`--select ${select?.join(',')} matches no file (ct download --list shows them)`);
  return wanted;
}

function matcher(pattern: string, count: number): (path: string, index: number) => boolean {
  const range = /^(\d+)(?:-(\d+))?$/.exec(pattern);
  if (range) {
    const from = Number(range[1]);
    const to = Number(range[2] ?? range[1]);
    if (from < 1 || to < from || to > count) throw new UsageError(`file index ${pattern} is out of range 1-${count} (ct download --list shows them)`);
    return (_p, i) => i >= from && i <= to;
  }
  const glob = picomatch(pattern, { dot: true });
  // A pattern without a slash matches a file's name in any folder, as `find -name` does.
  const base = pattern.includes('/') ? undefined : glob;
  return (p) => glob(p) || (base !== undefined && base(p.slice(p.lastIndexOf('/') + 1)));
}
