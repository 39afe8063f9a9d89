/**
 * Where a command's torrents come from and how peers are found for them, shared by every command
 * that takes `--metainfo`: a .torrent file, a magnet link (`--magnet URI`, or the URI as a
 * positional argument), `--seeds` (optional once trackers, the DHT or `x.pe` can find peers),
 * and the DHT settings. Magnet metadata is saved in the state directory, so a restart needs no
 * peer for it.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { UsageError, isMagnet, parseHostPort, parseMagnet, type Magnet, type Metainfo, type SessionOptions } from '@ct/engine';
import { loadTorrentFile, splitList } from './load-torrent.js';

export type TorrentSource = { kind: 'file'; file: string; meta: Metainfo } | { kind: 'magnet'; magnet: Magnet };

/** parseArgs options every torrent-taking command accepts. */
export const SOURCE_OPTIONS = {
  metainfo: { type: 'string', multiple: true },
  magnet: { type: 'string', multiple: true },
  seeds: { type: 'string' },
  'no-dht': { type: 'boolean' },
  'dht-bootstrap': { type: 'string' },
  'state-dir': { type: 'string' },
} as const;

export const SOURCE_HELP = `  --metainfo FILE       a .torrent file
  --magnet URI          a magnet link (or give it as the first argument); its metadata comes from
                        peers (x.pe, trackers, DHT) and is kept in the state dir for next time
  --seeds LIST          peers to ask (HOST:PORT,...), retried until the end; optional: trackers,
                        the DHT and PEX find peers too
  --no-dht              do not use the DHT (also CT_NO_DHT=1); private torrents never use it
  --dht-bootstrap LIST  DHT nodes to start from (HOST:PORT,...; default: the public routers)
  --state-dir DIR       DHT routing table and fetched metadata (default ~/.local/state/ct)`;

export interface SourceValues {
  metainfo?: string[];
  magnet?: string[];
  seeds?: string;
  'no-dht'?: boolean;
  'dht-bootstrap'?: string;
  'state-dir'?: string;
}

/** The torrents named by --metainfo, --magnet and magnet positionals (non-magnet positionals are left alone). */
export async function loadSources(values: SourceValues, positionals: readonly string[] = []): Promise<TorrentSource[]> {
  const out: TorrentSource[] = [];
  for (const file of values.metainfo ?? []) out.push({ kind: 'file', file, meta: await loadTorrentFile(file) });
  for (const uri of [...(values.magnet ?? []), ...positionals.filter(isMagnet)]) out.push({ kind: 'magnet', magnet: parseMagnet(uri) });
  if (out.length === 0) throw new UsageError('missing --metainfo FILE or a magnet link');
  return out;
}

/** For commands whose only positional argument may be a magnet link. */
export function rejectStray(positionals: readonly string[]): void {
  const stray = positionals.find((p) => !isMagnet(p));
  if (stray !== undefined) throw new UsageError(`unexpected argument "${stray}" (a .torrent goes after --metainfo)`);
}

export function peersOf(values: SourceValues): string[] {
  const peers = splitList(values.seeds);
  for (const p of peers) parseHostPort(p);
  return peers;
}

export function stateDir(values: SourceValues): string {
  if (values['state-dir']) return path.resolve(values['state-dir']);
  const base = process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'ct');
}

/** Session settings for discovery: the DHT unless disabled, the state directory. */
export function discoveryOptions(values: SourceValues): Pick<SessionOptions, 'dht' | 'stateDir'> {
  const noDht = !!values['no-dht'] || process.env.CT_NO_DHT === '1';
  const bootstrap = values['dht-bootstrap'] !== undefined ? splitList(values['dht-bootstrap']) : undefined;
  for (const b of bootstrap ?? []) parseHostPort(b);
  return { stateDir: stateDir(values), dht: noDht ? false : { bootstrap } };
}

export function sourceName(s: TorrentSource): string {
  return s.kind === 'file' ? s.meta.name : s.magnet.name ?? s.magnet.infoHashHex;
}
