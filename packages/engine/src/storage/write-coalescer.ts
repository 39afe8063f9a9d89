/**
 * Writes to one file gathered over a turn of the event loop and written as runs of contiguous
 * ranges, one pwritev per run. Pieces verified together are usually neighbours (the picker ranks
 * pieces in file order within 4 MiB extents) and their hashes come back in one batch, so a
 * download of 16 KiB pieces writes ~1 MiB per syscall instead of 16 KiB, and pays one thread-pool
 * round trip per run instead of per piece (32,768 pwrites per 512 MiB cost ~65,000 wake-ups).
 */
interface PendingWrite { position: number; data: Buffer; resolve(): void; reject(err: unknown): void }

/** At most this many buffers (the kernel's IOV_MAX is 1024) or bytes per pwritev. */
const MAX_RUN_BUFFERS = 256;
const MAX_RUN_BYTES = 8 * 1024 * 1024;

export class WriteCoalescer {
  private readonly pending = new Map<number, PendingWrite[]>();
  private scheduled = false;

  /** `run` writes `buffers` back to back at `position` of file `fileIndex`. */
  constructor(private readonly run: (fileIndex: number, position: number, buffers: Buffer[]) => Promise<void>) {}

  write(fileIndex: number, position: number, data: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let list = this.pending.get(fileIndex);
      if (!list) this.pending.set(fileIndex, list = []);
      list.push({ position, data, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const files = [...this.pending];
    this.pending.clear();
    for (const [fileIndex, writes] of files) {
      writes.sort((a, b) => a.position - b.position);
      let run: PendingWrite[] = [];
      let bytes = 0;
      const start = () => {
        if (run.length === 0) return;
        const batch = run;
        this.run(fileIndex, batch[0].position, batch.map((w) => w.data)).then(
          () => { for (const w of batch) w.resolve(); },
          (err: unknown) => { for (const w of batch) w.reject(err); },
        );
        run = [];
        bytes = 0;
      };
      for (const w of writes) {
        const last = run[run.length - 1];
        if (last && (last.position + last.data.length !== w.position || run.length >= MAX_RUN_BUFFERS || bytes + w.data.length > MAX_RUN_BYTES)) start();
        run.push(w);
        bytes += w.data.length;
      }
      start();
    }
  }
}
