/**
 * Where a command's torrents come from and how peers are found for them, shared by every command
 * that takes a torrent: a .torrent file or a magnet link, given as an argument or with
 * `--metainfo` / `--magnet`; `--seeds` (optional once trackers, the DHT or `x.pe` can find peers);
 * and the DHT settings. Magnet metadata is saved in the state directory, so a restart needs no
 * peer for it.
 */
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { UsageError, isMagnet, parseHostPort, parseMagnet, type Magnet, type Metainfo, type SessionOptions } from '@ct/engine';
import { configOption } from './config/apply-config.js';
import { defaultStateDir } from './config/default-paths.js';
import { loadTorrentFile } from './load-torrent.js';
import { collect, collectMagnet, parsePeerList, parseRate, parseSeconds } from './options.js';

export type TorrentSource = { kind: 'file'; file: string; meta: Metainfo } | { kind: 'magnet'; magnet: Magnet };

/** What the source options parse into (commander's camel-cased names). */
export interface SourceOptions {
  metainfo?: string[];
  magnet?: string[];
  seeds?: string[];
  /** False with --no-dht. */
  dht?: boolean;
  dhtBootstrap?: string[];
  stateDir?: string;
  /** Seconds between saves of resume data (--resume-every). */
  resumeEvery?: number;
  /** Bytes per second for the whole session (--limit-down, --limit-up; 0: none). */
  limitDown?: number;
  limitUp?: number;
}

/** Adds --metainfo, --magnet, then the session's options (addSessionOptions) to a command. */
export function addSourceOptions(cmd: Command): Command {
  cmd
    .option('--metainfo <file>', 'a .torrent file (or give it as an argument); repeatable', collect)
    .option('--magnet <uri>', 'a magnet link (or give it as an argument); its metadata comes from peers and is kept in the state dir', collectMagnet)
    .option('--seeds <host:port,...>', 'peers to connect to, retried until the end (optional: trackers, the DHT and PEX find peers too)', parsePeerList);
  return addSessionOptions(cmd);
}

/** Adds --no-dht, --dht-bootstrap, --state-dir, --resume-every, the rate limits and --config: how a session finds peers, keeps state and paces itself. */
export function addSessionOptions(cmd: Command): Command {
  return cmd
    .option('--no-dht', 'do not use the DHT (also CT_NO_DHT=1); private torrents never use it')
    .option('--dht-bootstrap <host:port,...>', 'DHT nodes to start from (default: the public routers)', parsePeerList)
    .addOption(new Option('--state-dir <dir>', 'DHT routing table and fetched metadata').default(defaultStateDir(), '$XDG_STATE_HOME/ct or ~/.local/state/ct'))
    .addOption(new Option('--resume-every <seconds>', 'save what is verified (resume data, in the state dir) this often; a restart trusts unchanged files instead of hashing them').argParser(parseSeconds).default(30))
    .addOption(new Option('--limit-down <rate>', 'download at most this fast, all torrents together (20MB/s, 512k; 0: no limit)').argParser(parseRate).default(0))
    .addOption(new Option('--limit-up <rate>', 'upload at most this fast, all torrents together (0: no limit)').argParser(parseRate).default(0))
    .addOption(configOption());
}

/** A positional argument that names a torrent: a magnet link, or a path to a .torrent file. */
export function isTorrentArgument(arg: string): boolean {
  return isMagnet(arg) || /\.torrent$/i.test(arg);
}

/** The torrents named by the options and by `args` (each a magnet link or a .torrent path). */
export async function loadSources(opts: SourceOptions, args: readonly string[] = []): Promise<TorrentSource[]> {
  const out: TorrentSource[] = [];
  const files = [...(opts.metainfo ?? []), ...args.filter((a) => !isMagnet(a))];
  for (const file of files) out.push({ kind: 'file', file, meta: await loadTorrentFile(file) });
  for (const uri of [...(opts.magnet ?? []), ...args.filter(isMagnet)]) {
    try {
      out.push({ kind: 'magnet', magnet: parseMagnet(uri) });
    } catch (err) {
      throw new UsageError((err as Error).message); // a bad magnet link is a usage error (exit 2)
    }
  }
  if (out.length === 0) throw new UsageError('give a torrent: a .torrent file or a magnet link, as an argument or with --metainfo/--magnet');
  return out;
}

/** Exactly one torrent, for the commands that take one. */
export async function loadOneSource(opts: SourceOptions, args: readonly string[] = []): Promise<TorrentSource> {
  const sources = await loadSources(opts, args);
  if (sources.length !== 1) throw new UsageError(`give exactly one torrent (got ${sources.length})`);
  return sources[0];
}

/** Session settings from the session options: the DHT unless disabled, the state directory, resume saves, rate limits. */
export function sessionSettings(opts: SourceOptions): Pick<SessionOptions, 'dht' | 'stateDir' | 'resumeEveryMs' | 'rateLimits'> {
  const noDht = opts.dht === false || process.env.CT_NO_DHT === '1';
  for (const b of opts.dhtBootstrap ?? []) parseHostPort(b);
  return {
    stateDir: path.resolve(opts.stateDir ?? defaultStateDir()), dht: noDht ? false : { bootstrap: opts.dhtBootstrap },
    resumeEveryMs: (opts.resumeEvery ?? 30) * 1000, rateLimits: { download: opts.limitDown ?? 0, upload: opts.limitUp ?? 0 },
  };
}

export function sourceName(s: TorrentSource): string {
  return s.kind === 'file' ? s.meta.name : s.magnet.name ?? s.magnet.infoHashHex;
}

/** What the help of every torrent-taking command says about giving torrents. */
export const SOURCE_NOTE = `

A torrent is a .torrent file or a magnet link ('magnet:?xt=urn:btih:...'), as an argument or
with --metainfo / --magnet. A magnet's metadata comes from its x.pe peers, its trackers and
the DHT, and is saved in the state dir.`;
