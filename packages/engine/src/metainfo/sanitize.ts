/**
 * Path sanitising. File names in a torrent come from strangers: `..`, absolute paths, NUL bytes or
 * a `/` inside a component could make us write outside the download directory. Every component is
 * neutralised here, once, so storage, the HTTP server and the FUSE tree all see the same safe names.
 */

/** Linux NAME_MAX: longer components cannot be created. */
const MAX_COMPONENT_BYTES = 255;

/**
 * Makes one path component safe: `/`, `\` and NUL become `_`; `.`/`..`/empty yield null (the
 * caller drops the component); over-long names are shortened, keeping the extension.
 */
export function sanitizeComponent(raw: string): string | null {
  let name = raw.replace(/[\/\\\0]/g, '_');
  if (name === '' || name === '.' || name === '..') return null;
  if (Buffer.byteLength(name) > MAX_COMPONENT_BYTES) name = truncateUtf8(name, MAX_COMPONENT_BYTES);
  return name;
}

/** Sanitises a whole path; a path with no usable component becomes `_`. */
export function sanitizePath(components: readonly string[]): string[] {
  const out: string[] = [];
  for (const c of components) {
    const safe = sanitizeComponent(c);
    if (safe !== null) out.push(safe);
  }
  return out.length ? out : ['_'];
}

function truncateUtf8(name: string, maxBytes: number): string {
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  let stem = name.slice(0, name.length - ext.length);
  while (Buffer.byteLength(stem + ext) > maxBytes) stem = [...stem].slice(0, -1).join('');
  return stem + ext;
}

/**
 * Gives every path a distinct spelling: a file whose path equals an earlier file's, or which
 * collides with a directory (file `a` and file `a/b`), gets a stable ` (n)` suffix on the clashing
 * component. Stable because it depends only on file order in the torrent.
 */
export function dedupePaths(paths: readonly string[][]): string[][] {
  const files = new Set<string>();
  const dirs = new Set<string>();
  /** Original directory prefix -> the spelling it was given, so siblings stay together. */
  const dirSpelling = new Map<string, string[]>();
  return paths.map((path) => {
    let out: string[] = [];
    for (let i = 0; i < path.length - 1; i++) {
      const original = path.slice(0, i + 1).join('/');
      const known = dirSpelling.get(original);
      if (known) { out = known.slice(); continue; }
      out.push(freeName(path[i], (name) => files.has([...out, name].join('/'))));
      dirSpelling.set(original, out.slice());
      dirs.add(out.join('/'));
    }
    const last = path[path.length - 1];
    out.push(freeName(last, (name) => { const k = [...out, name].join('/'); return files.has(k) || dirs.has(k); }));
    files.add(out.join('/'));
    return out;
  });
}

/** `name`, or the first of `name (1)`, `name (2)`, ... (before the extension) that is not taken. */
export function freeName(name: string, taken: (name: string) => boolean): string {
  let candidate = name;
  for (let n = 1; taken(candidate); n++) {
    const dot = name.lastIndexOf('.');
    candidate = dot > 0 ? `${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${name} (${n})`;
  }
  return candidate;
}
