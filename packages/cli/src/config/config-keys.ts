/**
 * Every key of ct's configuration: its section, type, default and help, the environment variable
 * that sets it (CT_<SECTION>_<KEY>) and the command-line option it stands in for. One table so the
 * file, the environment, `ct config` and README.md cannot drift apart (a test checks README lists
 * every key). Pure: parsing a value throws ConfigValueError with the accepted form.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { DEFAULT_READ_TIMEOUT_MS } from '@ct/fusefs';
import { parseLogFormat, parseLogLevel } from '../log.js';
import { parseListen, parsePeerList, parsePositiveSize, parseRate, parseSeconds } from '../options.js';
import { defaultStateDir } from './default-paths.js';

/** A value the key cannot take; the message says what it takes. */
export class ConfigValueError extends Error {}

/** A configuration value as the TOML parser or the environment gives it. */
export type RawValue = string | number | boolean | readonly unknown[] | Date | object;

export interface ConfigKey<T = unknown> {
  /** `section.name`, as written in the file. */
  readonly name: string;
  /** What `ct config` and README.md say of it. */
  readonly help: string;
  readonly fallback: T;
  /** How the default reads in help when it depends on the machine (~, $XDG_...). */
  readonly fallbackText?: string;
  /** The commander attribute of the option it stands in for (`--download-dir` -> downloadDir). */
  readonly option?: string;
  /** That option as written on the command line (for `ct config` and the origin it prints). */
  readonly flag?: string;
  /** The commands the key applies to, when not every command with that option (`--http` differs). */
  readonly only?: readonly string[];
  /** Never printed (ct config shows "<set>"): the API token. */
  readonly secret?: boolean;
  readonly parse: (raw: RawValue) => T;
}

/** The variable that sets `key`: CT_SESSION_DOWNLOAD_DIR for session.download_dir. */
export function envName(key: string): string {
  return `CT_${key.replace('.', '_').toUpperCase()}`;
}

function reword(parse: (s: string) => unknown) {
  return (s: string) => {
    try {
      return parse(s);
    } catch (err) {
      throw new ConfigValueError(err instanceof InvalidArgumentError ? err.message.replace(/\.$/, '') : String(err));
    }
  };
}

const text = (raw: RawValue): string => {
  if (typeof raw !== 'string') throw new ConfigValueError('expected a string');
  return raw;
};
const pathValue = (raw: RawValue): string => {
  const s = text(raw);
  if (s === '') throw new ConfigValueError('expected a path');
  return s === '~' || s.startsWith('~/') ? path.join(os.homedir(), s.slice(1)) : s;
};
const bool = (raw: RawValue): boolean => {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string' && /^(true|1|yes|on)$/i.test(raw)) return true;
  if (typeof raw === 'string' && /^(false|0|no|off)$/i.test(raw)) return false;
  throw new ConfigValueError('expected true or false');
};
const seconds = (raw: RawValue): number => {
  if (typeof raw === 'number' || typeof raw === 'string') return reword(parseSeconds)(String(raw)) as number;
  throw new ConfigValueError('expected a positive number of seconds');
};
const rate = (raw: RawValue): number => {
  if (typeof raw === 'number' || typeof raw === 'string') return reword(parseRate)(String(raw)) as number;
  throw new ConfigValueError('expected a rate such as "20MB/s" or 0 (unlimited)');
};
const size = (raw: RawValue): number => {
  if (typeof raw === 'number' || typeof raw === 'string') return reword(parsePositiveSize)(String(raw)) as number;
  throw new ConfigValueError('expected a size such as "10GiB" or "512MiB"');
};
const hostPort = (raw: RawValue): string => reword(parseListen)(text(raw)) as string;
const peers = (raw: RawValue): string[] => {
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : undefined;
  if (!list || !list.every((p): p is string => typeof p === 'string')) throw new ConfigValueError('expected a list of "HOST:PORT" strings');
  return reword(parsePeerList)(list.join(',')) as string[];
};

export const CONFIG_KEYS: readonly ConfigKey[] = [
  { name: 'session.listen', help: 'accept peers here (HOST:PORT; port 0: any free port)', fallback: undefined, fallbackText: 'per command: 0.0.0.0:0, ct cat 127.0.0.1:0', option: 'listen', flag: '--listen <host:port>', parse: hostPort },
  { name: 'session.download_dir', help: 'where data goes (each command has its own default without it)', fallback: undefined, fallbackText: 'per command', option: 'downloadDir', flag: '--download-dir <dir>', parse: pathValue },
  { name: 'session.state_dir', help: 'DHT routing table and fetched metadata', fallback: defaultStateDir(), fallbackText: '$XDG_STATE_HOME/ct or ~/.local/state/ct', option: 'stateDir', flag: '--state-dir <dir>', parse: pathValue },
  { name: 'session.resume_every', help: 'seconds between saves of resume data (what is verified, in the state dir)', fallback: 30, option: 'resumeEvery', flag: '--resume-every <seconds>', parse: seconds },
  { name: 'session.dht', help: 'use the DHT (private torrents never do)', fallback: true, option: 'dht', flag: '--no-dht', parse: bool },
  { name: 'session.dht_bootstrap', help: 'DHT nodes to start from (["HOST:PORT", ...])', fallback: undefined, fallbackText: 'the public routers', option: 'dhtBootstrap', flag: '--dht-bootstrap <host:port,...>', parse: peers },
  { name: 'limits.download', help: 'download at most this fast, all torrents together (bytes/s: 20MB/s, 512k; 0: no limit); ct limit changes it while ct serve runs', fallback: 0, option: 'limitDown', flag: '--limit-down <rate>', parse: rate },
  { name: 'limits.upload', help: 'upload at most this fast, all torrents together (0: no limit)', fallback: 0, option: 'limitUp', flag: '--limit-up <rate>', parse: rate },
  { name: 'mount.dir', help: 'where ct serve mounts its torrents (none: no mount)', fallback: undefined, fallbackText: 'no mount', option: 'mount', flag: '--mount <dir>', only: ['serve'], parse: pathValue },
  { name: 'mount.read_timeout', help: 'seconds a read through the mount waits for its pieces before it fails', fallback: DEFAULT_READ_TIMEOUT_MS / 1000, option: 'readTimeout', flag: '--read-timeout <seconds>', parse: seconds },
  { name: 'mount.eagain', help: 'fail timed-out reads with EAGAIN instead of EIO', fallback: false, option: 'eagain', flag: '--eagain', parse: bool },
  { name: 'mount.allow_other', help: 'let other users read the mount', fallback: false, option: 'allowOther', flag: '--allow-other', parse: bool },
  { name: 'mount.download_all', help: 'fetch every file in the background, not just what is read', fallback: false, option: 'downloadAll', flag: '--download-all', parse: bool },
  { name: 'cache.max_size', help: 'keep at most this much of what ct mount / ct serve read on demand on disk (10GiB); the least recently read pieces are evicted', fallback: undefined, fallbackText: 'unbounded', option: 'cacheSize', flag: '--cache-size <size>', parse: size },
  { name: 'cache.evict_selected', help: 'the cache may evict pieces of files fetched in full too (--download-all, selected files)', fallback: false, option: 'cacheEvictSelected', flag: '--cache-evict-selected', parse: bool },
  { name: 'service.watch_dir', help: 'ct serve adds .torrent and .magnet files dropped here (renamed .added or .invalid)', fallback: undefined, fallbackText: 'none', option: 'watchDir', flag: '--watch-dir <dir>', only: ['serve'], parse: pathValue },
  { name: 'log.level', help: 'what ct serve logs: error, warn, info or debug (-q is warn, -v debug)', fallback: 'info', option: 'logLevel', flag: '--log-level <level>', only: ['serve'], parse: (raw) => reword(parseLogLevel)(text(raw)) },
  { name: 'log.format', help: 'how ct serve logs each event: text (ct: ...) or json (one object per line)', fallback: 'text', option: 'logFormat', flag: '--log-format <format>', only: ['serve'], parse: (raw) => reword(parseLogFormat)(text(raw)) },
  { name: 'http.listen', help: 'where ct serve answers its HTTP API (HOST:PORT), and where ct add/rm/ls find it', fallback: '127.0.0.1:4444', option: 'http', flag: '--http <host:port>', only: ['serve'], parse: hostPort },
  { name: 'http.token', help: 'the bearer token the HTTP API requires (needed to listen beyond loopback)', fallback: undefined, fallbackText: 'none', secret: true, parse: text },
];

export const SECTIONS = [...new Set(CONFIG_KEYS.map((k) => k.name.split('.')[0]))];

export function findKey(name: string): ConfigKey | undefined {
  return CONFIG_KEYS.find((k) => k.name === name);
}
