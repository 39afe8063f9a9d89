/**
 * Parses and validates v1 .torrent files (BEP 3, with BEP 12 announce-list, BEP 27 private,
 * BEP 47 pad/symlink attributes). The result is the one description of a torrent that every other
 * part works from: validated sizes, sanitised paths, and the infohash of the raw info bytes.
 */
import { createHash } from 'node:crypto';
import { MetainfoError, type BencodeError } from '../errors.js';
import { decodeStrict, topLevelValueSpan, type BencodeValue } from './bencode.js';
import { dedupePaths, sanitizeComponent, sanitizePath } from './sanitize.js';

/** Large enough for every real torrent; bounds the memory one in-flight piece may take. */
export const MAX_PIECE_LENGTH = 256 * 1024 * 1024;
/** Below this the hash list outgrows the data; no client makes such torrents. */
export const MIN_PIECE_LENGTH = 1024;

export interface TorrentFileEntry {
  /** Sanitised, de-duplicated path components, relative to the torrent's root folder. */
  readonly path: readonly string[];
  /** Path components exactly as the torrent spells them (decoded as UTF-8), for display. */
  readonly rawPath: readonly string[];
  readonly length: number;
  /** Byte offset of the file in the torrent's concatenated data. */
  readonly offset: number;
  /** BEP 47 pad file: occupies piece space, is never written or shown. */
  readonly pad: boolean;
  /** BEP 47 symlink target (sanitised components), when the entry is a symlink. */
  readonly symlink?: readonly string[];
  readonly executable: boolean;
}

export interface Metainfo {
  readonly infoHash: Buffer;
  readonly infoHashHex: string;
  /** Sanitised torrent name: the root folder of a multi-file torrent, the file of a single-file one. */
  readonly name: string;
  readonly pieceLength: number;
  readonly pieceCount: number;
  /** Concatenated 20-byte SHA-1 hashes. */
  readonly pieceHashes: Buffer;
  /** Sum of all file lengths, pad files included: the size of the piece space. */
  readonly totalLength: number;
  readonly files: readonly TorrentFileEntry[];
  /** True when the info dict has `files` (a folder), false for a single-file torrent. */
  readonly multiFile: boolean;
  /** Tracker tiers (BEP 12); the plain `announce` is a one-tracker tier when there is no list. */
  readonly announce: readonly (readonly string[])[];
  readonly private: boolean;
  readonly creationDate?: Date;
  readonly comment?: string;
  readonly createdBy?: string;
  /** The raw bencoded info dictionary, exactly as in the file. */
  readonly infoBytes: Buffer;
}

type Dict = { [key: string]: BencodeValue };

const isDict = (v: BencodeValue | undefined): v is Dict =>
  typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !Array.isArray(v);
const isBytes = (v: BencodeValue | undefined): v is Uint8Array => v instanceof Uint8Array;
const text = (v: Uint8Array): string => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');

function requireInt(dict: Dict, key: string, where: string, min = 0): number {
  const v = dict[key];
  if (typeof v !== 'number') throw new MetainfoError(`${where}: "${key}" must be an integer`);
  if (v < min) throw new MetainfoError(`${where}: "${key}" must be >= ${min} (got ${v})`);
  return v;
}

function optionalText(dict: Dict, key: string): string | undefined {
  const v = dict[key];
  return isBytes(v) ? text(v) : undefined;
}

/** Reads a path list (`path` or `path.utf-8`) as strings. */
function readPathList(v: BencodeValue | undefined, where: string): string[] {
  if (!Array.isArray(v) || v.length === 0) throw new MetainfoError(`${where}: "path" must be a non-empty list`);
  return v.map((c) => {
    if (!isBytes(c)) throw new MetainfoError(`${where}: path components must be strings`);
    return text(c);
  });
}

export function parseMetainfo(data: Uint8Array): Metainfo {
  let root: BencodeValue;
  try {
    root = decodeStrict(data);
  } catch (err) {
    throw new MetainfoError(`not a valid torrent file: ${(err as BencodeError).message}`, { cause: err });
  }
  if (!isDict(root)) throw new MetainfoError('not a valid torrent file: top level is not a dictionary');
  const info = root.info;
  if (!isDict(info)) throw new MetainfoError('missing "info" dictionary');
  const span = topLevelValueSpan(data, 'info');
  if (!span) throw new MetainfoError('missing "info" dictionary');
  const infoBytes = Buffer.from(data.subarray(span.start, span.end));
  const infoHash = createHash('sha1').update(infoBytes).digest();

  if (!isBytes(info.pieces)) {
    if (info['meta version'] === 2) throw new MetainfoError('v2-only torrents are not supported (no "pieces")');
    throw new MetainfoError('info: "pieces" must be a string of SHA-1 hashes');
  }
  const pieceLength = requireInt(info, 'piece length', 'info', 1);
  if (pieceLength < MIN_PIECE_LENGTH || pieceLength > MAX_PIECE_LENGTH) {
    throw new MetainfoError(`info: "piece length" ${pieceLength} is outside ${MIN_PIECE_LENGTH}..${MAX_PIECE_LENGTH}`);
  }
  const pieceHashes = Buffer.from(info.pieces);
  if (pieceHashes.length === 0 || pieceHashes.length % 20 !== 0) {
    throw new MetainfoError(`info: "pieces" length ${pieceHashes.length} is not a positive multiple of 20`);
  }
  const pieceCount = pieceHashes.length / 20;

  const rawName = isBytes(info['name.utf-8']) ? text(info['name.utf-8']) : optionalText(info, 'name');
  if (rawName === undefined) throw new MetainfoError('info: "name" must be a string');
  const name = sanitizeComponent(rawName) ?? infoHash.toString('hex');

  const files = readFiles(info, rawName);
  const totalLength = files.reduce((sum, f) => sum + f.length, 0);
  if (!Number.isSafeInteger(totalLength)) throw new MetainfoError('total size is too large');
  if (totalLength === 0) throw new MetainfoError('torrent has no data (total size is 0)');
  const expectedPieces = Math.ceil(totalLength / pieceLength);
  if (expectedPieces !== pieceCount) {
    throw new MetainfoError(`piece count ${pieceCount} does not match total size ${totalLength} / piece length ${pieceLength} (expected ${expectedPieces})`);
  }

  const creation = root['creation date'];
  return {
    infoHash,
    infoHashHex: infoHash.toString('hex'),
    name,
    pieceLength,
    pieceCount,
    pieceHashes,
    totalLength,
    files,
    multiFile: Array.isArray(info.files),
    announce: readAnnounce(root),
    private: info.private === 1,
    creationDate: typeof creation === 'number' && creation > 0 ? new Date(creation * 1000) : undefined,
    comment: optionalText(root, 'comment.utf-8') ?? optionalText(root, 'comment'),
    createdBy: optionalText(root, 'created by'),
    infoBytes,
  };
}

function readFiles(info: Dict, rawName: string): TorrentFileEntry[] {
  if (info.files === undefined) {
    const length = requireInt(info, 'length', 'info');
    const name = sanitizeComponent(rawName) ?? '_';
    return [{ path: [name], rawPath: [rawName], length, offset: 0, pad: false, executable: false }];
  }
  if (info.length !== undefined) throw new MetainfoError('info has both "length" and "files"');
  if (!Array.isArray(info.files) || info.files.length === 0) throw new MetainfoError('info: "files" must be a non-empty list');
  const raw = info.files.map((f, i) => {
    const where = `info.files[${i}]`;
    if (!isDict(f)) throw new MetainfoError(`${where} is not a dictionary`);
    const length = requireInt(f, 'length', where);
    const rawPath = readPathList(f['path.utf-8'] ?? f.path, where);
    const attr = optionalText(f, 'attr') ?? '';
    const target = attr.includes('l') && f['symlink path'] !== undefined ? sanitizePath(readPathList(f['symlink path'], where)) : undefined;
    return { rawPath, length, pad: attr.includes('p'), executable: attr.includes('x'), symlink: target };
  });
  // Pad files keep their place in the piece space but never reach the disk, so they take no
  // part in name de-duplication.
  const visible = raw.filter((f) => !f.pad);
  const safe = dedupePaths(visible.map((f) => sanitizePath(f.rawPath)));
  const safeByEntry = new Map(visible.map((f, i) => [f, safe[i]]));
  let offset = 0;
  return raw.map((f) => {
    const entry: TorrentFileEntry = {
      path: safeByEntry.get(f) ?? ['.pad', String(offset)],
      rawPath: f.rawPath,
      length: f.length,
      offset,
      pad: f.pad,
      executable: f.executable,
      ...(f.symlink ? { symlink: f.symlink } : {}),
    };
    offset += f.length;
    return entry;
  });
}

function readAnnounce(root: Dict): string[][] {
  const tiers: string[][] = [];
  const list = root['announce-list'];
  if (Array.isArray(list)) {
    for (const tier of list) {
      if (!Array.isArray(tier)) continue;
      const urls = tier.filter(isBytes).map(text).filter((u) => u.length > 0);
      if (urls.length) tiers.push(urls);
    }
  }
  const single = optionalText(root, 'announce');
  if (tiers.length === 0 && single) tiers.push([single]);
  return tiers;
}

/** Piece `index`'s expected SHA-1. */
export function pieceHash(meta: Metainfo, index: number): Buffer {
  return meta.pieceHashes.subarray(index * 20, index * 20 + 20);
}

/** Size of piece `index` (the last one may be shorter). */
export function pieceSize(meta: Pick<Metainfo, 'pieceLength' | 'pieceCount' | 'totalLength'>, index: number): number {
  return index === meta.pieceCount - 1 ? meta.totalLength - meta.pieceLength * (meta.pieceCount - 1) : meta.pieceLength;
}
