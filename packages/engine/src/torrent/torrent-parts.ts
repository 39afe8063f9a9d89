/**
 * The collaborators a Torrent coordinates, built from its metainfo and options in one place:
 * the piece <-> file layout, the picker and the storage on disk, and the options of every part
 * with their defaults resolved once.
 * Torrent takes them as a constructor argument, so unit tests can hand it their own (storage in
 * a temporary folder, a hasher that answers at once or never) and drive it through fake
 * connections. Defaults live here, once.
 */
import * as path from 'node:path';
import { FileLayout } from '../layout/file-layout.js';
import type { Metainfo } from '../metainfo/metainfo.js';
import { PiecePicker } from '../picker/piece-picker.js';
import { TorrentStorage } from '../storage/torrent-storage.js';
import type { FdPool } from '../storage/fd-pool.js';
import { DEFAULT_PEER_OPTIONS, type PeerSessionOptions } from '../peer/peer-options.js';
import { DEFAULT_ASSEMBLER_OPTIONS, type AssemblerOptions } from './piece-assembler.js';
import { DEFAULT_PEER_SET_OPTIONS, type PeerSetOptions } from './peer-set.js';
import type { TorrentOptions } from './torrent-types.js';

/** Pieces kept in memory to serve uploads, when the options do not say. */
export const DEFAULT_UPLOAD_CACHE_BYTES = 32 * 1024 * 1024;
/**
 * Open pieces of a download, in bytes of their buffers (see TorrentOptions.pieceBufferBytes).
 * Shared out among the peers (request-share.ts), 32 MiB downloaded from six seeders capped at
 * 40 MB/s as fast as 48 MiB (176-210 against 185-199 MB/s, 1 GiB) in 116-126 instead of 131-140
 * MiB of peak RSS; one seeder needs ~16 MiB of it.
 */
export const DEFAULT_PIECE_BUFFER_BYTES = 32 * 1024 * 1024;
/**
 * Open pieces at most, whatever their size: each costs picker state, a hash job and a write
 * besides its bytes. 48 MiB of 16 KiB pieces were 3,072 open pieces and 210-230 MiB peak RSS for
 * no speed (1 GiB from one libtorrent seeder; 8-16 MiB of them: 150-170 MiB, same rate). 512
 * 16 KiB pieces are ~85 requests for each of six peers; not measured with several peers yet.
 */
export const MAX_OPEN_PIECES = 512;
/** The picker's budget of open pieces: `budgetBytes` of buffers, at least 4 and at most MAX_OPEN_PIECES. */
export function openPieceBudget(budgetBytes: number, pieceLength: number): number {
  return Math.max(4, Math.min(MAX_OPEN_PIECES, Math.floor(budgetBytes / pieceLength)));
}

export interface TorrentParts {
  layout: FileLayout;
  picker: PiecePicker;
  storage: TorrentStorage;
}

/** Where a torrent's files go: `downloadDir/<name>/...` for a multi-file torrent. */
function torrentRoot(metainfo: Metainfo, downloadDir: string): string {
  return metainfo.multiFile ? path.join(downloadDir, metainfo.name) : downloadDir;
}

/** What building the parts takes of the torrent's options (the descriptor budget is internal: not a Pick of TorrentOptions). */
export interface PartsOptions {
  downloadDir: string;
  readOnly?: boolean;
  fdPool?: FdPool;
}

export function buildTorrentParts(metainfo: Metainfo, opts: PartsOptions): TorrentParts {
  const layout = new FileLayout(metainfo.files, metainfo.pieceLength);
  const storage = new TorrentStorage(layout, metainfo.files, torrentRoot(metainfo, opts.downloadDir), {
    readOnly: opts.readOnly,
    fdPool: opts.fdPool,
    // The part file holds pieces' bytes of files that may not exist yet (on demand, deselected).
    partFile: path.join(opts.downloadDir, `.${metainfo.infoHashHex}.parts`),
  });
  return { layout, picker: new PiecePicker(metainfo), storage };
}

/** The options of each part, with defaults filled in where the torrent's options say nothing. */
export interface ResolvedTorrentOptions {
  peer: PeerSessionOptions;
  peerSet: PeerSetOptions;
  assembler: AssemblerOptions;
  uploadCacheBytes: number;
  /** The picker's budget of open pieces (from `pieceBufferBytes`). */
  piecesInFlight: number;
}

/** `{ a: undefined, b: 1 }` -> `{ b: 1 }`: options left out keep their defaults when spread. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function resolveTorrentOptions(metainfo: Metainfo, opts: TorrentOptions): ResolvedTorrentOptions {
  return {
    peer: { ...DEFAULT_PEER_OPTIONS, ...opts.peer },
    peerSet: {
      ...DEFAULT_PEER_SET_OPTIONS,
      ...definedOnly({ maxPeers: opts.maxPeers, maxPeersPerAddress: opts.maxPeersPerAddress, uploadSlots: opts.uploadSlots, pexIntervalMs: opts.pexIntervalMs }),
      private: metainfo.private,
      peerId: opts.peerId,
    },
    assembler: { ...DEFAULT_ASSEMBLER_OPTIONS, ...definedOnly({ maxUnwrittenBytes: opts.maxUnwrittenBytes }) },
    uploadCacheBytes: opts.uploadCacheBytes ?? DEFAULT_UPLOAD_CACHE_BYTES,
    piecesInFlight: openPieceBudget(opts.pieceBufferBytes ?? DEFAULT_PIECE_BUFFER_BYTES, metainfo.pieceLength),
  };
}
