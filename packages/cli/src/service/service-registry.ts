/**
 * The torrents a `ct serve` holds, kept in its state dir so a restart brings every one back:
 * `<stateDir>/service/<infohash>.json` per torrent (where its data goes, the magnet it came from,
 * when it was added), next to `<stateDir>/torrents/<infohash>.torrent` (its metadata: written at
 * add for a .torrent, by the session once a magnet's arrives). Each record is written atomically
 * (writeFileAtomic): a crash leaves the old record or the new one.
 */
import { readFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
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
  /** Its own rate limits (`ct limit ID`), bytes per second; 0 or absent: none. */
  readonly limits?: { readonly download?: number; readonly upload?: number };
  /** `ct add --select` patterns, kept until the metadata is known and they become `priorities`. */
  readonly select?: readonly string[];
  /** Files (path in the torrent) given a priority by `ct select` (4) or `ct deselect` (0). */
  readonly priorities?: Readonly<Record<string, number>>;
}

const optional = (v: unknown, check: (v: unknown) => boolean) => v === undefined || check(v);
const isStringList = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isRate = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** A record as read back from disk: every field of the right type, or it is not one. */
function isRecord(r: Partial<ServiceRecord>, infoHash: string): r is ServiceRecord {
  return r.infoHash === infoHash && typeof r.downloadDir === 'string' && typeof r.addedAt === 'string' &&
    optional(r.magnet, (v) => typeof v === 'string') && optional(r.peers, isStringList) &&
    optional(r.paused, (v) => typeof v === 'boolean') && optional(r.category, (v) => typeof v === 'string') &&
    optional(r.limits, (v) => typeof v === 'object' && v !== null && optional((v as { download?: unknown }).download, isRate) && optional((v as { upload?: unknown }).upload, isRate)) &&
    optional(r.select, isStringList) &&
    optional(r.priorities, (v) => typeof v === 'object' && v !== null && Object.values(v).every((p) => Number.isInteger(p) && p >= 0 && p <= 7));
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
        // Synchronously: small files, read once at start; 1,000 promise reads took longer than the rest of a restore.
        const r = JSON.parse(readFileSync(path.join(this.dir, name), 'utf8')) as Partial<ServiceRecord>;
        if (!isRecord(r, name.slice(0, 40))) throw new Error('not a service record');
        out.push(r);
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
