/**
 * Where a session keeps each torrent's fast-resume snapshot (torrent/resume-data.ts): one JSON
 * file per torrent and download folder under `<stateDir>/resume/`, written atomically
 * (util/atomic-file.ts), so a crash at any moment leaves the old snapshot
 * or the new one, never half of one. Snapshots are saved every SAVE_EVERY_MS (SessionOptions.
 * resumeEveryMs) by one timer for the whole session, when a torrent is removed and when the
 * session closes. Only those whose verified pieces (or existing files) changed since their last save are looked at:
 * every 30 s, 1,000 idle seeding torrents wrote 1,000 unchanged files with an fsync each (2 s of
 * CPU), and stamping their files opened 1,000 descriptors.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Torrent } from '../torrent/torrent.js';
import { writeFileAtomic } from '../util/atomic-file.js';

/** At most this much verified progress is lost to a kill -9 (the issue asks for 30 s). */
export const SAVE_EVERY_MS = 30_000;

export class ResumeStore {
  /** Torrents being kept, with their download folder and what was last written for them. */
  private readonly tracked = new Map<Torrent, { file: string; written?: string; version?: number }>();
  /** Snapshots as read at start, by file: what is on disk already, not written again if unchanged. */
  private readonly loaded = new Map<string, string>();

  constructor(private readonly dir: string, private readonly warn: (message: string) => void) {}

  private fileFor(infoHashHex: string, downloadDir: string): string {
    // One torrent may live in two folders: each has its own snapshot.
    const folder = createHash('sha1').update(path.resolve(downloadDir)).digest('hex').slice(0, 12);
    return path.join(this.dir, `${infoHashHex}-${folder}.json`);
  }

  /** The stored snapshot, or undefined (none, unreadable, not JSON: the torrent checks everything). */
  async load(infoHashHex: string, downloadDir: string): Promise<unknown> {
    const file = this.fileFor(infoHashHex, downloadDir);
    try {
      // Synchronously: a few KiB, once per torrent at start, where 1,000 torrents' promise reads cost more than the rest of their start.
      const text = readFileSync(file, 'utf8');
      const parsed = JSON.parse(text) as unknown;
      this.loaded.set(file, text);
      return parsed;
    } catch {
      return undefined;
    }
  }

  track(torrent: Torrent, downloadDir: string): void {
    const file = this.fileFor(torrent.infoHashHex, downloadDir);
    const entry: { file: string; written?: string; version?: number } = { file, written: this.loaded.get(file) };
    this.tracked.set(torrent, entry);
    this.loaded.delete(file);
    // Started from the snapshot without hashing anything: every file's stamp matched and every
    // piece came from it, so it is current as it is; no need to stamp the files again to see so.
    torrent.once('ready', ({ hashed }) => {
      if (hashed === 0 && entry.written !== undefined && entry.version === undefined) entry.version = torrent.resumeVersion;
    });
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
    // Verified or lost pieces and files starting to exist change the version; nothing else in a
    // snapshot changes while we run (the stamps move only with our own writes of pieces).
    const version = torrent.resumeVersion;
    if (version === entry.version) return;
    try {
      const text = JSON.stringify(await torrent.resumeData());
      if (text !== entry.written) await writeFileAtomic(entry.file, text);
      entry.written = text;
      entry.version = version;
    } catch (err) {
      this.warn(`cannot save resume data of ${torrent.metainfo.name}: ${(err as Error).message}`);
    }
  }
}
