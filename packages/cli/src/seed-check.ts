/**
 * Before `ct seed` serves a folder: does it hold any file of the torrent? A wrong --download-dir
 * is the usual mistake (the torrent's own folder given instead of its parent, or the parent of
 * the parent), and seeding nothing would look like working. Looks only at the file system.
 */
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { UsageError, type Metainfo } from '@ct/engine';

export function checkSeedDir(meta: Metainfo, dir: string): void {
  const files = meta.files.filter((f) => !f.pad && f.length > 0).map((f) => f.path);
  if (files.length === 0) return;
  const root = path.resolve(dir, meta.multiFile ? meta.name : '');
  if (files.some((f) => existsSync(path.join(root, ...f)))) return;
  const first = path.join(root, ...files[0]);
  let hint = '';
  if (meta.multiFile && files.some((f) => existsSync(path.join(path.resolve(dir), ...f)))) {
    hint = `; ${dir} looks like the torrent's folder itself: use --download-dir ${path.dirname(path.resolve(dir))}`;
  } else {
    const sub = subfolders(path.resolve(dir)).find((d) => existsSync(path.join(d, meta.multiFile ? meta.name : '', ...files[0])));
    if (sub) hint = `; found it one level down: use --download-dir ${sub}`;
  }
  throw new UsageError(`${dir} holds none of the files of ${meta.name} (looked for ${first})${hint}`);
}

function subfolders(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).slice(0, 200).map((e) => path.join(dir, e.name));
  } catch {
    return [];
  }
}
