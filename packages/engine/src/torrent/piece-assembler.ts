/**
 * From blocks to verified pieces on disk: each piece is assembled in a SharedArrayBuffer from a
 * small pool (steady state allocates nothing), hashed off the main thread when its last block
 * arrives, written to storage, and only then reported. Bounds what it holds (at most
 * `maxUnwrittenBytes` of complete pieces waiting for the hash or the disk; spare buffers up to
 * `maxSpareBytes`), and keeps the smart-ban fingerprints of failed multi-source pieces. A hash
 * that cannot be computed (the hasher failed) blames nobody: the piece is fetched again.
 */
import { CtError, StorageError } from '../errors.js';
import { allocPieceBuffer, type HasherPool } from '../hash/hasher-pool.js';
import type { FileLayout } from '../layout/file-layout.js';
import { pieceHash, type Metainfo } from '../metainfo/metainfo.js';
import type { PiecePicker } from '../picker/piece-picker.js';
import type { TorrentStorage } from '../storage/torrent-storage.js';
import { BlockAttribution } from './block-attribution.js';

export interface AssemblerHost {
  isClosed(): boolean;
  /** The piece is verified and about to be written: room is made for it on disk first (the bounded cache). */
  makeRoom(index: number): Promise<void>;
  /** The write failed: the room made for it is given back. */
  writeFailed(index: number): void;
  /** The piece is verified and on disk; `liars` sent bad blocks of it earlier (smart ban). */
  pieceWritten(index: number, liars: string[]): void;
  /** The piece failed its hash check; `culprit` is its sole contributor, to ban at once. */
  hashFailed(index: number, contributors: string[], culprit: string | undefined): void;
  /** Blocks went back to the picker, or memory was freed: peers may request again. */
  roomFreed(): void;
  /** The disk failed: fatal for the torrent. */
  storageFailed(err: CtError): void;
}

export interface AssemblerOptions {
  /**
   * Stop requesting while this many bytes of complete pieces wait for hashing or the disk. Without
   * it, a CPU- or disk-bound moment piled up 110 pieces (110 MiB) in memory during a 1 GiB run.
   */
  maxUnwrittenBytes: number;
  /**
   * Spare piece buffers kept: a dropped SharedArrayBuffer is freed only when V8 gets round to it,
   * which showed as 150 MiB of garbage buffers in a 1 GiB download with a pool of 8.
   */
  maxSpareBytes: number;
}

export const DEFAULT_ASSEMBLER_OPTIONS: AssemblerOptions = { maxUnwrittenBytes: 32 * 1024 * 1024, maxSpareBytes: 64 * 1024 * 1024 };

export class PieceAssembler {
  /** Payload thrown away: failed hashes and duplicate endgame blocks. */
  wasted = 0;
  hashFailures = 0;
  private readonly buffers = new Map<number, Buffer>();
  private readonly spares: Buffer[] = [];
  /** Bytes of complete pieces waiting for their hash check or disk write (memory we hold). */
  private unwrittenBytes = 0;
  private readonly attribution = new BlockAttribution();

  constructor(
    private readonly metainfo: Metainfo,
    private readonly layout: FileLayout,
    private readonly picker: PiecePicker,
    private readonly storage: TorrentStorage,
    private readonly hasher: HasherPool,
    private readonly host: AssemblerHost,
    private readonly opts: AssemblerOptions = DEFAULT_ASSEMBLER_OPTIONS,
  ) {}

  /** Too much is waiting for the hash or the disk: request nothing until it drains. */
  get backlogFull(): boolean {
    return this.unwrittenBytes > this.opts.maxUnwrittenBytes;
  }

  /** A requested block arrived from `from`; false when it was a duplicate (counted as wasted). */
  addBlock(index: number, begin: number, block: Buffer, from: string): boolean {
    if (this.picker.blockReceived(index, begin, from) !== 'new') {
      this.wasted += block.length;
      return false;
    }
    const buf = this.bufferOf(index);
    // A block that landed in place (FrameParser) is in the buffer already.
    if (block.buffer !== buf.buffer || block.byteOffset !== buf.byteOffset + begin) block.copy(buf, begin);
    if (this.picker.isPieceComplete(index)) {
      const size = this.layout.pieceSize(index);
      this.unwrittenBytes += size;
      void this.verify(index, buf).finally(() => {
        this.unwrittenBytes -= size;
        this.host.roomFreed();
      });
    }
    return true;
  }

  /** Where a block of `index` may be received in place (the picker marked it landing). */
  landingTarget(index: number, begin: number, length: number): Buffer {
    return this.bufferOf(index).subarray(begin, begin + length);
  }

  private bufferOf(index: number): Buffer {
    let buf = this.buffers.get(index);
    if (!buf) {
      buf = this.spares.pop() ?? allocPieceBuffer(this.metainfo.pieceLength);
      this.buffers.set(index, buf);
    }
    return buf;
  }

  private async verify(index: number, buf: Buffer): Promise<void> {
    const data = buf.subarray(0, this.layout.pieceSize(index));
    let ok: boolean;
    try {
      ok = await this.hasher.verify(data, pieceHash(this.metainfo, index));
    } catch {
      // The hash could not be computed (the hasher failed): nobody is to blame, fetch it again.
      if (!this.host.isClosed()) {
        this.picker.pieceFailed(index);
        this.recycle(index, buf);
      }
      return;
    }
    if (this.host.isClosed()) return;
    if (!ok) return this.failed(index, buf);
    try {
      await this.host.makeRoom(index);
      await this.storage.writePiece(index, data);
    } catch (err) {
      this.host.writeFailed(index);
      return this.host.storageFailed(err instanceof CtError ? err : new StorageError(String(err)));
    }
    const liars = this.attribution.pieceVerified(index, data);
    this.recycle(index, buf);
    if (this.host.isClosed()) return;
    this.picker.pieceVerified(index);
    this.host.pieceWritten(index, liars);
  }

  private failed(index: number, buf: Buffer): void {
    this.hashFailures++;
    this.wasted += this.layout.pieceSize(index);
    const owners = this.picker.pieceFailed(index);
    const culprit = this.attribution.pieceFailed(index, buf.subarray(0, this.layout.pieceSize(index)), owners);
    this.recycle(index, buf);
    this.host.hashFailed(index, [...new Set(owners.filter((o): o is string => o !== undefined))], culprit);
  }

  private recycle(index: number, buf: Buffer): void {
    this.buffers.delete(index);
    if ((this.spares.length + 1) * buf.length <= this.opts.maxSpareBytes) this.spares.push(buf);
  }
}
