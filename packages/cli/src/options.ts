/**
 * Value parsers for command-line options, shared by every command. Each throws commander's
 * InvalidArgumentError with the accepted form, so a bad value ends in one line that names the
 * option ("option '--timeout <seconds>' argument '-5' is invalid: a positive number of seconds").
 */
import { InvalidArgumentError, Option } from 'commander';
import { isMagnet, parseHostPort } from '@ct/engine';

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1024, kb: 1000, kib: 1024,
  m: 1024 ** 2, mb: 1e6, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1e9, gib: 1024 ** 3,
  t: 1024 ** 4, tb: 1e12, tib: 1024 ** 4,
};

/** A size: `16384`, `16k`, `16KiB`, `4MiB`, `1.5G` (k/M/G alone are binary, kB/MB/GB decimal). */
export function parseSize(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new InvalidArgumentError('expected a size such as 16384, 16k, 256KiB or 4MiB.');
  const n = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('size out of range.');
  return n;
}

/** A rate in bytes per second: a size, `/s` optional (`20MB/s`, `512k`); 0 means unlimited. */
export function parseRate(value: string): number {
  try {
    return parseSize(value.replace(/\s*\/\s*s(ec)?\s*$/i, ''));
  } catch {
    throw new InvalidArgumentError('expected a rate such as 20MB/s, 512k or 0 (unlimited).');
  }
}

export function parsePositiveSize(value: string): number {
  const n = parseSize(value);
  if (n <= 0) throw new InvalidArgumentError('expected a size above 0 (such as 16k or 4MiB).');
  return n;
}

export function parseSeconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of seconds.');
  return n;
}

export function parseMebibytes(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 8192) throw new InvalidArgumentError('expected a number of MiB between 1 and 8192.');
  return n;
}

/** HOST:PORT to listen on (port 0: any free port). */
export function parseListen(value: string): string {
  try {
    parseHostPort(value, { listen: true });
  } catch {
    throw new InvalidArgumentError('expected HOST:PORT, such as 0.0.0.0:6881 or [::]:0.');
  }
  return value;
}

/** `--http`: HOST:PORT, or a bare PORT meaning 127.0.0.1:PORT. */
export function parseHttp(value: string): string {
  const v = /^\d+$/.test(value.trim()) ? `127.0.0.1:${value.trim()}` : value;
  try {
    parseHostPort(v, { listen: true });
  } catch {
    throw new InvalidArgumentError('expected PORT or HOST:PORT, such as 8888 or 127.0.0.1:8888.');
  }
  return v;
}

/** A comma-separated list of HOST:PORT peers; at least one. */
export function parsePeerList(value: string): string[] {
  const peers = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (peers.length === 0) throw new InvalidArgumentError('expected HOST:PORT[,HOST:PORT...], such as 10.0.0.5:6881,[::1]:51413.');
  for (const p of peers) {
    try {
      parseHostPort(p);
    } catch {
      throw new InvalidArgumentError(`"${p}" is not HOST:PORT (such as 10.0.0.5:6881 or [::1]:51413).`);
    }
  }
  return peers;
}

/** Appends repeated values of an option (`--metainfo a --metainfo b`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function collectMagnet(value: string, previous: string[] | undefined): string[] {
  if (!isMagnet(value)) throw new InvalidArgumentError('expected a magnet link (magnet:?xt=urn:btih:...).');
  return collect(value, previous);
}

/** `--listen HOST:PORT`, shared by every command that accepts peers. */
export function listenOption(fallback = '0.0.0.0:0', description = 'accept peers here (port 0: any free port)'): Option {
  return new Option('--listen <host:port>', description).argParser(parseListen).default(fallback);
}

/** `--timeout SECONDS` (default 60); what it bounds differs per command. */
export function timeoutOption(description: string): Option {
  return new Option('--timeout <seconds>', description).argParser(parseSeconds).default(60);
}
