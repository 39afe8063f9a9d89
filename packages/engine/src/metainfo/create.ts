/**
 * Makes a v1 .torrent from a file or folder: walks the tree in a stable (byte-wise sorted) order,
 * hashes pieces in the HasherPool with several in flight, and bencodes the result.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../errors.js';
import { allocPieceBuffer, sharedHasherPool, type HasherPool } from '../hash/hasher-pool.js';
import { encode } from './bencode.js';

export interface CreateTorrentOptions {
  /** Power of two >= 16 KiB; chosen from the total size (~1500 pieces) when omitted. */
  pieceLength?: number;
  /** Tracker URLs; several become one announce-list tier each. */
  announce?: readonly string[];
  comment?: string;
  private?: boolean;
  /** Seconds since the epoch; now when omitted. */
  creationDate?: number;
  hasher?: HasherPool;
}

interface InputFile { abs: string; rel: string[]; length: number }

export async function createTorrent(input: string, opts: CreateTorrentOptions = {}): Promise<Buffer> {
  const root = path.resolve(input);
  const st = await fs.promises.stat(root).catch(() => {
    throw new UsageError(`no such file or directory: ${input}`);
  });
  const files: InputFile[] = st.isDirectory() ? await walk(root, []) : [{ abs: root, rel: [path.basename(root)], length: st.size }];
  const total = files.reduce((s, f) => s + f.length, 0);
  if (total === 0) throw new UsageError(`${input} holds no data`);
  const pieceLength = opts.pieceLength ?? choosePieceLength(total);
  if (!Number.isInteger(pieceLength) || pieceLength < 16384 || (pieceLength & (pieceLength - 1)) !== 0) {
    throw new UsageError(`piece length must be a power of two >= 16384 (got ${pieceLength})`);
  }
  const pieces = await hashPieces(files, total, pieceLength, opts.hasher ?? sharedHasherPool());
  const info: Record<string, unknown> = {
    name: path.basename(root),
    'piece length': pieceLength,
    pieces,
  };
  if (st.isDirectory()) info.files = files.map((f) => ({ length: f.length, path: f.rel }));
  else info.length = total;
  if (opts.private) info.private = 1;
  const torrent: Record<string, unknown> = {
    info,
    'creation date': opts.creationDate ?? Math.floor(Date.now() / 1000),
    'created by': 'ct 0.1.0',
  };
  if (opts.announce?.length) {
    torrent.announce = opts.announce[0];
    if (opts.announce.length > 1) torrent['announce-list'] = opts.announce.map((u) => [u]);
  }
  if (opts.comment) torrent.comment = opts.comment;
  return encode(torrent);
}

/** ~1500 pieces, between 16 KiB and 16 MiB. */
export function choosePieceLength(total: number): number {
  let len = 16384;
  while (len < 16 * 1024 * 1024 && total / len > 1500) len *= 2;
  return len;
}

async function walk(dir: string, rel: string[]): Promise<InputFile[]> {
  const entries = await fs.promises.readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  const out: InputFile[] = [];
  for (const e of entries) {
    const abs = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...await walk(abs, [...rel, e.name]));
    else if (e.isFile()) out.push({ abs, rel: [...rel, e.name], length: (await fs.promises.stat(abs)).size });
  }
  return out;
}

async function hashPieces(files: InputFile[], total: number, pieceLength: number, hasher: HasherPool): Promise<Buffer> {
  const count = Math.ceil(total / pieceLength);
  const hashes = Buffer.alloc(count * 20);
  const inFlight = new Set<Promise<void>>();
  const spare: Buffer[] = [];
  let buf = allocPieceBuffer(pieceLength);
  let filled = 0;
  let index = 0;
  const flush = async (): Promise<void> => {
    const i = index++;
    const data = buf;
    const len = filled;
    const job = hasher.hash(data.subarray(0, len)).then((h) => {
      h.copy(hashes, i * 20);
      spare.push(data);
      inFlight.delete(job);
    });
    inFlight.add(job);
    buf = spare.pop() ?? allocPieceBuffer(pieceLength);
    filled = 0;
    if (inFlight.size >= 4) await Promise.race(inFlight);
  };
  for (const f of files) {
    const fh = await fs.promises.open(f.abs, 'r');
    try {
      let pos = 0;
      while (pos < f.length) {
        const { bytesRead } = await fh.read(buf, filled, Math.min(pieceLength - filled, f.length - pos), pos);
        if (bytesRead === 0) throw new UsageError(`${f.abs} changed size while hashing`);
        pos += bytesRead;
        filled += bytesRead;
        if (filled === pieceLength) await flush();
      }
    } finally {
      await fh.close();
    }
  }
  if (filled > 0) await flush();
  await Promise.all(inFlight);
  return hashes;
}
