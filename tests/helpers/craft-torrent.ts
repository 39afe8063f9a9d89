/**
 * Builds .torrent files `ct create` would never make: BEP 47 pad files and symlinks, and files of
 * several GiB that are sparse on disk (mostly zeros, with a few blobs of real data), hashed
 * without reading gigabytes (every all-zero piece has the same hash).
 */
import { createHash } from 'node:crypto';
import { mkdir, open, symlink } from 'node:fs/promises';
import * as path from 'node:path';
import { bencodeEncode } from '@ct/engine';

export interface CraftedFile {
  path: string[];
  length: number;
  /** Non-zero content: the rest of the file is zeros (and sparse on disk). */
  blobs?: { offset: number; data: Buffer }[];
  /** BEP 47 pad file: zeros, never shown, never written. */
  pad?: boolean;
  /** BEP 47 symlink to this path inside the torrent (length 0, no bytes in the piece space). */
  symlink?: string[];
}

export interface CraftOptions {
  name: string;
  pieceLength: number;
  files: CraftedFile[];
  /** One file at the top: a single-file torrent (files[0] is it). */
  single?: boolean;
  creationDate?: number;
}

/** Writes the content under `dir` (dir/name/... or dir/name for a single file) and returns the .torrent bytes. */
export async function craftTorrent(dir: string, opts: CraftOptions): Promise<Buffer> {
  const blobs: { offset: number; data: Buffer }[] = [];
  let offset = 0;
  for (const f of opts.files) {
    if (!f.pad && !f.symlink) {
      const file = opts.single ? path.join(dir, opts.name) : path.join(dir, opts.name, ...f.path);
      await mkdir(path.dirname(file), { recursive: true });
      const fh = await open(file, 'w');
      await fh.truncate(f.length);
      for (const b of f.blobs ?? []) await fh.write(b.data, 0, b.data.length, b.offset);
      await fh.close();
    } else if (f.symlink && !opts.single) {
      const link = path.join(dir, opts.name, ...f.path);
      await mkdir(path.dirname(link), { recursive: true });
      await symlink(path.relative(path.dirname(link), path.join(dir, opts.name, ...f.symlink)), link);
    }
    for (const b of f.blobs ?? []) blobs.push({ offset: offset + b.offset, data: b.data });
    if (!f.symlink) offset += f.length;
  }
  const total = offset;
  const pieces: Buffer[] = [];
  const zeroHash = new Map<number, Buffer>();
  for (let start = 0; start < total; start += opts.pieceLength) {
    const len = Math.min(opts.pieceLength, total - start);
    const touching = blobs.filter((b) => b.offset < start + len && b.offset + b.data.length > start);
    if (touching.length === 0) {
      if (!zeroHash.has(len)) zeroHash.set(len, createHash('sha1').update(Buffer.alloc(len)).digest());
      pieces.push(zeroHash.get(len) as Buffer);
      continue;
    }
    const piece = Buffer.alloc(len);
    for (const b of touching) {
      const from = Math.max(start, b.offset);
      const to = Math.min(start + len, b.offset + b.data.length);
      b.data.copy(piece, from - start, from - b.offset, to - b.offset);
    }
    pieces.push(createHash('sha1').update(piece).digest());
  }
  const info: Record<string, unknown> = { name: opts.name, 'piece length': opts.pieceLength, pieces: Buffer.concat(pieces) };
  if (opts.single) info.length = opts.files[0].length;
  else {
    info.files = opts.files.map((f) => {
      const entry: Record<string, unknown> = { length: f.symlink ? 0 : f.length, path: f.path };
      if (f.pad) entry.attr = 'p';
      if (f.symlink) { entry.attr = 'l'; entry['symlink path'] = f.symlink; }
      return entry;
    });
  }
  return Buffer.from(bencodeEncode({ info, 'creation date': opts.creationDate ?? 1_700_000_000 }));
}
