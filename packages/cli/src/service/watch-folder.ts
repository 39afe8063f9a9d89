/**
 * The watch folder of `ct serve` (`service.watch_dir`, `--watch-dir`): a `.torrent` file, or a
 * `.magnet` file holding a magnet link as text, dropped there is added to the service and renamed
 * `NAME.added`, or `NAME.invalid` when it cannot be (the reason goes to the log). Scanned on one
 * timer (every 2 s by default) rather than with fs.watch, which misses files on network and FUSE
 * file systems and fires before a copy is complete; a file whose size still changes between two
 * scans waits for the next.
 */
import { readFile, readdir, rename, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { ServiceLog } from '../log.js';
import type { AddRequest, AddResult } from './api-types.js';

export interface WatchFolderOptions {
  dir: string;
  add: (req: AddRequest) => Promise<AddResult>;
  log: ServiceLog;
  intervalMs?: number;
}

const MAX_FILE_BYTES = 8 * 1024 * 1024;

/** What a dropped file asks for: a `.magnet` holds a magnet link as text, a `.torrent` is one. */
export function addRequestFromFile(name: string, bytes: Buffer): AddRequest {
  if (/\.magnet$/i.test(name)) return { magnet: bytes.toString('utf8').trim() };
  if (/\.torrent$/i.test(name)) return { torrent: bytes };
  throw new Error('only .torrent and .magnet files are added');
}

export class WatchFolder {
  private timer: NodeJS.Timeout | undefined;
  private scanning = false;
  /** Sizes seen at the last scan: a file is taken once its size holds still. */
  private readonly sizes = new Map<string, number>();

  constructor(private readonly opts: WatchFolderOptions) {}

  start(): void {
    const tick = () => void this.scan().finally(() => { if (this.timer) this.timer = setTimeout(tick, this.opts.intervalMs ?? 2000); });
    this.timer = setTimeout(tick, 0);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One pass over the folder; never throws (a missing folder is said once per pass in the log). */
  async scan(): Promise<void> {
    if (this.scanning) return;
    this.scanning = true;
    try {
      const names = await readdir(this.opts.dir).catch((err: Error) => {
        this.opts.log(`watch folder ${this.opts.dir}: ${err.message}`, 'warn');
        return [] as string[];
      });
      const wanted = names.filter((n) => /\.(torrent|magnet)$/i.test(n));
      // Forget files that went away before they were taken.
      for (const name of this.sizes.keys()) if (!wanted.includes(name)) this.sizes.delete(name);
      for (const name of wanted) await this.take(name);
    } finally {
      this.scanning = false;
    }
  }

  private async take(name: string): Promise<void> {
    const file = path.join(this.opts.dir, name);
    const size = await stat(file).then((s) => (s.isFile() ? s.size : -1), () => -1);
    if (size < 0) return;
    const before = this.sizes.get(name);
    this.sizes.set(name, size);
    if (before !== size) return; // new or still being written: next scan
    this.sizes.delete(name);
    let outcome: 'added' | 'invalid';
    try {
      if (size > MAX_FILE_BYTES) throw new Error(`over ${MAX_FILE_BYTES} bytes`);
      const bytes = await readFile(file);
      const added = await this.opts.add(addRequestFromFile(name, bytes));
      this.opts.log(`watch folder: added ${name} (${added.id})`);
      outcome = 'added';
    } catch (err) {
      this.opts.log(`watch folder: ${name} is invalid: ${(err as Error).message.split('\n')[0]}`, 'warn');
      outcome = 'invalid';
    }
    await rename(file, `${file}.${outcome}`).catch((err: Error) => this.opts.log(`watch folder: cannot rename ${name}: ${err.message}`, 'error'));
  }
}
