/**
 * Writes to one file gathered and written as runs of contiguous ranges, one pwritev per run.
 * Writes to a file take its inode lock, so they go one batch at a time anyway; while a batch is
 * on disk the next writes wait here and leave together as the next batch. Pieces verified
 * together are usually neighbours (the picker ranks pieces in file order within 4 MiB extents),
 * so a download of 16 KiB pieces writes ~1 MiB per syscall instead of 16 KiB, and pays one
 * thread-pool round trip per run instead of per piece (32,768 pwrites per 512 MiB cost ~65,000
 * wake-ups). Gathering only within one turn of the event loop was not enough: under load each
 * turn completed a piece or two, and the runs came out one 16 KiB write each.
 */
interface PendingWrite { position: number; data: Buffer; resolve(): void; reject(err: unknown): void }

interface FileQueue {
  pending: PendingWrite[];
  /** A batch of this file is being written: new writes wait for it. */
  busy: boolean;
  scheduled: boolean;
}

/** At most this many buffers (the kernel's IOV_MAX is 1024) or bytes per pwritev. */
const MAX_RUN_BUFFERS = 256;
const MAX_RUN_BYTES = 8 * 1024 * 1024;

export class WriteCoalescer {
  private readonly files = new Map<number, FileQueue>();

  /** `run` writes `buffers` back to back at `position` of file `fileIndex`. */
  constructor(private readonly run: (fileIndex: number, position: number, buffers: Buffer[]) => Promise<void>) {}

  write(fileIndex: number, position: number, data: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let queue = this.files.get(fileIndex);
      if (!queue) this.files.set(fileIndex, queue = { pending: [], busy: false, scheduled: false });
      queue.pending.push({ position, data, resolve, reject });
      // The rest of this turn's writes join the batch; a busy file flushes when its batch is done.
      if (!queue.busy && !queue.scheduled) {
        queue.scheduled = true;
        setImmediate(() => this.flush(fileIndex));
      }
    });
  }

  private flush(fileIndex: number): void {
    const queue = this.files.get(fileIndex);
    if (!queue) return;
    queue.scheduled = false;
    const writes = queue.pending;
    if (writes.length === 0) {
      this.files.delete(fileIndex);
      return;
    }
    queue.pending = [];
    queue.busy = true;
    const done = this.runs(writes).map((batch) => this.run(fileIndex, batch[0].position, batch.map((w) => w.data)).then(
      () => { for (const w of batch) w.resolve(); },
      (err: unknown) => { for (const w of batch) w.reject(err); },
    ));
    void Promise.all(done).then(() => {
      queue.busy = false;
      this.flush(fileIndex);
    });
  }

  /** Sorted writes cut into runs of contiguous ranges within the bounds. */
  private runs(writes: PendingWrite[]): PendingWrite[][] {
    writes.sort((a, b) => a.position - b.position);
    const out: PendingWrite[][] = [];
    let run: PendingWrite[] = [];
    let bytes = 0;
    for (const w of writes) {
      const last = run[run.length - 1];
      if (last && (last.position + last.data.length !== w.position || run.length >= MAX_RUN_BUFFERS || bytes + w.data.length > MAX_RUN_BYTES)) {
        out.push(run);
        run = [];
        bytes = 0;
      }
      run.push(w);
      bytes += w.data.length;
    }
    if (run.length) out.push(run);
    return out;
  }
}
