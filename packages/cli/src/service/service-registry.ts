/**
 * The torrents a `ct serve` holds, kept in its state dir so a restart brings every one back:
 * `<stateDir>/service/<infohash>.json` per torrent (where its data goes, the magnet it came from,
 * when it was added), next to `<stateDir>/torrents/<infohash>.torrent` (its metadata: written at
 * add for a .torrent, by the session once a magnet's arrives). Each record is written atomically
 * (writeFileAtomic): a crash leaves the old record or the new one.
 */
import { readFile, readdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '@ct/engine';

export interface ServiceRecord {
  readonly infoHash: string;
  readonly downloadDir: string;
  readonly addedAt: string;
  /** For a torrent added as a magnet link: fetched again from peers if its metadata is missing. */
  readonly magnet?: string;
  /** Peers given at add (`--seeds`), dialed again after every restart. */
  readonly peers?: readonly string[];
  /** The folder of the mount it shows in (`ct add --category`). */
  readonly category?: string;
  /** Paused with `ct pause`: stays stopped across restarts until `ct resume`. */
  readonly paused?: boolean;
}

export class ServiceRegistry {
  private readonly dir: string;

  constructor(readonly stateDir: string, private readonly warn: (message: string) => void) {
    this.dir = path.join(stateDir, 'service');
  }

  /** Where the torrent's metadata is kept (the session saves magnets' there too). */
  torrentFile(infoHash: string): string {
    return path.join(this.stateDir, 'torrents', `${infoHash}.torrent`);
  }

  async list(): Promise<ServiceRecord[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const out: ServiceRecord[] = [];
    for (const name of names.filter((n) => /^[0-9a-f]{40}\.json$/.test(n)).sort()) {
      try {
        const r = JSON.parse(await readFile(path.join(this.dir, name), 'utf8')) as Partial<ServiceRecord>;
        if (r.infoHash !== name.slice(0, 40) || typeof r.downloadDir !== 'string' || typeof r.addedAt !== 'string' || (r.magnet !== undefined && typeof r.magnet !== 'string') || (r.peers !== undefined && !(Array.isArray(r.peers) && r.peers.every((p) => typeof p === 'string'))) || (r.paused !== undefined && typeof r.paused !== 'boolean') || (r.category !== undefined && typeof r.category !== 'string')) throw new Error('not a service record');
        out.push(r as ServiceRecord);
      } catch (err) {
        this.warn(`ignoring ${path.join(this.dir, name)}: ${(err as Error).message}`);
      }
    }
    return out;
  }

  async save(record: ServiceRecord): Promise<void> {
    await writeFileAtomic(path.join(this.dir, `${record.infoHash}.json`), JSON.stringify(record));
  }

  async saveTorrentFile(infoHash: string, bytes: Buffer): Promise<void> {
    await writeFileAtomic(this.torrentFile(infoHash), bytes);
  }

  async remove(infoHash: string): Promise<void> {
    await rm(path.join(this.dir, `${infoHash}.json`), { force: true });
  }
}
