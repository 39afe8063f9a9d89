/**
 * `ct rm --delete-data`: deletes a removed torrent's files, its part file, and the folders of a
 * multi-file torrent that are left empty. Only the torrent's own paths (already made safe when its
 * metadata was parsed) are touched; anything else in those folders stays, and so do the folders.
 */
import { rm, rmdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { Metainfo } from '@ct/engine';

export async function deleteTorrentData(meta: Metainfo, downloadDir: string): Promise<void> {
  const root = meta.multiFile ? path.join(downloadDir, meta.name) : downloadDir;
  const folders = new Set<string>();
  for (const f of meta.files) {
    const file = path.join(root, ...f.path);
    if (!file.startsWith(root + path.sep)) continue; // never outside the torrent's root
    await rm(file, { force: true });
    for (let dir = path.dirname(file); dir.startsWith(root) && dir !== downloadDir; dir = path.dirname(dir)) folders.add(dir);
  }
  await rm(path.join(downloadDir, `.${meta.infoHashHex}.parts`), { force: true });
  // Deepest first; a folder holding anything else is left alone.
  for (const dir of [...folders].sort((a, b) => b.length - a.length)) await rmdir(dir).catch(() => undefined);
}
