/**
 * What one peer says it has. A bitfield, have-all or have-none replaces what it said before
 * (libtorrent accepts a later one too, and aria2 relies on it: have-none first, a full bitfield
 * later instead of haves; closing on a "second bitfield" stalled aria2 at ~10%, issue 10), so
 * every replacement returns the earlier announcement for the torrent to take back from its
 * availability counts. Pure.
 */
import { Bitfield } from '../util/bitfield.js';

/** An announcement as availability bookkeeping sees it. */
export type AnnouncedPieces = Bitfield | 'all';

export class PeerPieces {
  private bits: Bitfield;
  private all = false;
  /** Anything (bitfield, have-all/none, a have) arrived. */
  private announced = false;

  constructor(private readonly pieceCount: number) {
    this.bits = new Bitfield(pieceCount);
  }

  get hasAll(): boolean { return this.all; }
  /** The pieces as a bitfield (empty after have-all: check `hasAll`). */
  get bitfield(): Bitfield { return this.bits; }
  get isSeed(): boolean { return this.all || this.bits.complete; }
  /** 0..1 of the torrent. */
  get fraction(): number { return this.all ? 1 : this.bits.count / this.pieceCount; }

  has(index: number): boolean {
    return this.all || this.bits.get(index);
  }

  /** What counts in availability now (undefined: nothing). */
  current(): AnnouncedPieces | undefined {
    if (this.all) return 'all';
    return this.bits.count > 0 ? this.bits : undefined;
  }

  /** A new piece set (bitfield bytes already validated); returns the one it replaces. */
  replace(next: Bitfield | 'all' | 'none'): AnnouncedPieces | undefined {
    const previous = this.announced ? this.current() : undefined;
    this.announced = true;
    this.all = next === 'all';
    this.bits = typeof next === 'string' ? new Bitfield(this.pieceCount) : next;
    return previous;
  }

  /** A `have`; false when the piece was known already. */
  add(index: number): boolean {
    this.announced = true;
    if (this.has(index)) return false;
    this.bits.set(index);
    return true;
  }
}
