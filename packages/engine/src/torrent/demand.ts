/**
 * What the torrent wants, and how much: each piece's priority from the file selections (4 by
 * default, 0 in on-demand mode), raised to the top with deadlines while readers want it, and the
 * one place that decides whether a file may exist on disk (selected, or opened by a reader;
 * storage keeps the bytes of the others in its part file). Readers say which pieces lie under
 * their pending reads ("under a read") and which are their readahead; the picker gets the former
 * first. Pure: no sockets, no timers; the torrent feeds it and reads it.
 */
import type { FileLayout } from '../layout/file-layout.js';
import type { TorrentFileEntry } from '../metainfo/metainfo.js';
import { DEFAULT_PRIORITY, MAX_PRIORITY, type PiecePicker } from '../picker/piece-picker.js';

export class DemandTable {
  /** Priority of each piece from file selections. */
  private readonly basePriority: Uint8Array;
  /** How many readers currently want each piece; wanted pieces get the top priority. */
  private readonly readerRefs: Uint16Array;
  /** File index -> priority set through select()/deselect(). */
  private readonly filePriority = new Map<number, number>();
  /** Files a reader was opened on: they may exist on disk even when not selected. */
  private readonly openedFiles = new Set<number>();
  /** The pieces each reader wants right now (under its reads, then readahead). */
  private readonly readerWants = new Map<object, number[]>();
  /** The pieces under each reader's pending reads. */
  private readonly underRead = new Map<object, readonly number[]>();

  constructor(
    private readonly picker: PiecePicker,
    private readonly layout: FileLayout,
    private readonly files: readonly TorrentFileEntry[],
    private readonly onDemand: boolean,
  ) {
    const count = layout.pieceCount;
    this.basePriority = new Uint8Array(count).fill(onDemand ? 0 : DEFAULT_PRIORITY);
    this.readerRefs = new Uint16Array(count);
    if (onDemand) for (let i = 0; i < count; i++) picker.setPriority(i, 0);
  }

  private get defaultFilePriority(): number {
    return this.onDemand ? 0 : DEFAULT_PRIORITY;
  }

  /**
   * A reader's current needs: `underRead` (pieces under its pending reads, in order) get the
   * earliest deadlines, `ahead` (its readahead window) later ones. Replaces what it said before.
   */
  want(owner: object, underRead: readonly number[], ahead: readonly number[], now: number): void {
    const previous = this.readerWants.get(owner) ?? [];
    const next = [...underRead, ...ahead];
    for (const i of next) this.readerRefs[i]++;
    for (const i of previous) this.readerRefs[i]--;
    for (const i of previous) if (this.readerRefs[i] === 0) this.restore(i);
    underRead.forEach((i, k) => this.raise(i, now + k));
    ahead.forEach((i, k) => this.raise(i, now + 1000 + k));
    this.readerWants.set(owner, next);
    this.underRead.set(owner, underRead);
  }

  /** The reader is gone (closed, or its reads aborted): its pieces fall back to their file priority. */
  release(owner: object): void {
    const previous = this.readerWants.get(owner);
    if (!previous) return;
    this.readerWants.delete(owner);
    this.underRead.delete(owner);
    for (const i of previous) if (--this.readerRefs[i] === 0) this.restore(i);
  }

  /** Every piece under some reader's pending read (not its readahead). */
  piecesUnderReads(): Set<number> {
    const out = new Set<number>();
    for (const pieces of this.underRead.values()) for (const i of pieces) out.add(i);
    return out;
  }

  /** A file's download priority (0: deselected). A piece shared by files takes the highest of theirs. */
  setFilePriority(fileIndex: number, priority: number): void {
    this.filePriority.set(fileIndex, priority);
    const range = this.layout.filePieces(fileIndex);
    if (!range) return;
    for (let i = range.first; i <= range.last; i++) {
      let p = priority;
      for (const other of this.layout.pieceFiles(i)) {
        if (other !== fileIndex) p = Math.max(p, this.filePriority.get(other) ?? this.defaultFilePriority);
      }
      this.basePriority[i] = p;
      if (this.readerRefs[i] === 0) this.picker.setPriority(i, p);
    }
  }

  /** A file's priority: what select()/deselect() set, else the default (0 on demand, 4 otherwise). */
  filePriorityOf(fileIndex: number): number {
    return this.filePriority.get(fileIndex) ?? this.defaultFilePriority;
  }

  /** Readers that said what they want and are not released (open, with reads). */
  get readerCount(): number {
    return this.readerWants.size;
  }

  /** A reader needs the piece now (under a pending read or in its readahead). */
  isReaderWanted(index: number): boolean {
    return this.readerRefs[index] > 0;
  }

  /**
   * The bounded cache evicted the piece: it is no longer fetched in the background even if its
   * file is selected (with `cache.evict_selected`, a selection larger than the cache would
   * otherwise be fetched and evicted in turn forever); a read fetches it again.
   */
  evicted(index: number): void {
    this.basePriority[index] = 0;
    if (this.readerRefs[index] === 0) this.picker.setPriority(index, 0);
  }

  /** Its priority from file selections alone (0: fetched only when read). */
  basePriorityOf(index: number): number {
    return this.basePriority[index];
  }

  fileOpened(fileIndex: number): void {
    this.openedFiles.add(fileIndex);
  }

  /** Selected, or read: the file may exist on disk ("deselected files are never allocated"). */
  fileMayExist(fileIndex: number): boolean {
    if (this.files[fileIndex].pad) return false;
    const priority = this.filePriority.get(fileIndex) ?? this.defaultFilePriority;
    return priority > 0 || this.openedFiles.has(fileIndex);
  }

  private raise(index: number, deadline: number): void {
    if (this.picker.have.get(index)) return;
    this.picker.setPriority(index, MAX_PRIORITY);
    this.picker.setDeadline(index, deadline);
  }

  private restore(index: number): void {
    this.picker.clearDeadline(index);
    this.picker.setPriority(index, this.basePriority[index]);
  }
}
