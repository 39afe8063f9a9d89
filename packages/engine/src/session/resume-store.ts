/**
 * Where a session keeps each torrent's fast-resume snapshot (torrent/resume-data.ts): one JSON
 * file per torrent and download folder under `<stateDir>/resume/`, written atomically
 * (util/atomic-file.ts), so a crash at any moment leaves the old snapshot
 * or the new one, never half of one. Snapshots are saved every SAVE_EVERY_MS (SessionOptions.
 * resumeEveryMs) by one timer for the whole session (only those that changed), when a torrent is
 * removed and when the session closes.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Torrent } from '../torrent/torrent.js';
import { writeFileAtomic } from '../util/atomic-file.js';

/** At most this much verified progress is lost to a kill -9 (the issue asks for 30 s). */
export const SAVE_EVERY_MS = 30_000;

export class ResumeStore {
  /** Torrents being kept, with their download folder and what was last written for them. */
  private readonly tracked = new Map<Torrent, { file: string; written?: string }>();

  constructor(private readonly dir: string, private readonly warn: (message: string) => void) {}

  private fileFor(infoHashHex: string, downloadDir: string): string {
    // One torrent may live in two folders: each has its own snapshot.
    const folder = createHash('sha1').update(path.resolve(downloadDir)).digest('hex').slice(0, 12);
    return path.join(this.dir, `${infoHashHex}-${folder}.json`);
  }

  /** The stored snapshot, or undefined (none, unreadable, not JSON: the torrent checks everything). */
  async load(infoHashHex: string, downloadDir: string): Promise<unknown> {
    try {
      return JSON.parse(await readFile(this.fileFor(infoHashHex, downloadDir), 'utf8')) as unknown;
    } catch {
      return undefined;
    }
  }

  track(torrent: Torrent, downloadDir: string): void {
    this.tracked.set(torrent, { file: this.fileFor(torrent.infoHashHex, downloadDir) });
  }

  /** Saves `torrent`'s snapshot (if it changed) and forgets it. */
  async untrack(torrent: Torrent): Promise<void> {
    await this.save(torrent);
    this.tracked.delete(torrent);
  }

  async saveAll(): Promise<void> {
    await Promise.all([...this.tracked.keys()].map((t) => this.save(t)));
  }

  private async save(torrent: Torrent): Promise<void> {
    const entry = this.tracked.get(torrent);
    // While checking, `have` is not the truth yet: a snapshot now would say "missing" of pieces
    // that are on disk. A torrent in error keeps its last good snapshot.
    if (!entry || (torrent.currentState !== 'downloading' && torrent.currentState !== 'seeding')) return;
    try {
      const text = JSON.stringify(await torrent.resumeData());
      if (text === entry.written) return;
      await writeFileAtomic(entry.file, text);
      entry.written = text;
    } catch (err) {
      this.warn(`cannot save resume data of ${torrent.metainfo.name}: ${(err as Error).message}`);
    }
  }
}
