/**
 * One announce to an HTTP(S) tracker (BEP 3, compact peers BEP 23, IPv6 peers BEP 7). Ours rather
 * than bittorrent-tracker's: its client crashed the process on `d14:failure reasoni5ee` (an
 * uncaught TypeError in its response handling) and re-announced every millisecond when a tracker
 * sent a huge interval (911 announces in 1.5 s); see DESIGN.md. Everything a tracker sends is
 * checked here, and any problem becomes a TrackerError.
 */
import { TrackerError } from '../errors.js';
import { decodeStrict, type BencodeValue } from '../metainfo/bencode.js';
import { formatHostPort } from '../util/address.js';
import { type AnnounceParams, type AnnounceResult } from './announce.js';
import { parseCompactPeers } from '../util/compact-peers.js';

/** A tracker answer larger than this is refused (real ones are a few KiB). */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/** Percent-encodes raw bytes for a query string, as trackers expect for info_hash and peer_id. */
export function percentBytes(b: Buffer): string {
  let out = '';
  for (const byte of b) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9.\-_~]/.test(c) ? c : `%${byte.toString(16).padStart(2, '0').toUpperCase()}`;
  }
  return out;
}

export function announceUrl(base: string, p: AnnounceParams): string {
  const query = [
    `info_hash=${percentBytes(p.infoHash)}`,
    `peer_id=${percentBytes(p.peerId)}`,
    `port=${p.port}`,
    `uploaded=${p.uploaded}`,
    `downloaded=${p.downloaded}`,
    `left=${p.left}`,
    'compact=1',
    `numwant=${p.numwant}`,
    `key=${p.key.toString(16)}`,
  ];
  if (p.event) query.push(`event=${p.event}`);
  if (p.trackerId) query.push(`trackerid=${percentBytes(p.trackerId)}`);
  return `${base}${base.includes('?') ? '&' : '?'}${query.join('&')}`;
}

const text = (v: BencodeValue | undefined): string | undefined =>
  v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8').slice(0, 500) : undefined;
const int = (v: BencodeValue | undefined): number | undefined => (typeof v === 'number' ? v : undefined);

/** Reads a bencoded announce response; throws TrackerError for failures and nonsense. */
export function parseHttpAnnounce(body: Uint8Array): AnnounceResult {
  let root: BencodeValue;
  try {
    root = decodeStrict(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  } catch (err) {
    throw new TrackerError(`tracker sent a malformed response (${(err as Error).message})`);
  }
  if (typeof root !== 'object' || root === null || root instanceof Uint8Array || Array.isArray(root)) {
    throw new TrackerError('tracker sent a malformed response (not a dictionary)');
  }
  const d = root as Record<string, BencodeValue>;
  if (d['failure reason'] !== undefined) throw new TrackerError(`tracker refused: ${text(d['failure reason']) ?? 'no reason given'}`);
  const peers: string[] = [];
  const list = d.peers;
  if (list instanceof Uint8Array) {
    peers.push(...parseCompactPeers(list, false));
  } else if (Array.isArray(list)) {
    for (const p of list.slice(0, 1000)) {
      if (typeof p !== 'object' || p === null || p instanceof Uint8Array || Array.isArray(p)) continue;
      const ip = text(p.ip);
      const port = int(p.port);
      if (ip && port && port > 0 && port < 65536) peers.push(formatHostPort({ host: ip, port }));
    }
  }
  if (d.peers6 instanceof Uint8Array) peers.push(...parseCompactPeers(d.peers6, true));
  const trackerId = d['tracker id'];
  return {
    interval: int(d.interval) ?? 0,
    minInterval: int(d['min interval']),
    peers,
    seeders: int(d.complete),
    leechers: int(d.incomplete),
    warning: text(d['warning message']),
    trackerId: trackerId instanceof Uint8Array ? Buffer.from(trackerId) : undefined,
  };
}

export async function httpAnnounce(url: string, params: AnnounceParams, timeoutMs: number): Promise<AnnounceResult> {
  let res: Response;
  try {
    res = await fetch(announceUrl(url, params), { signal: AbortSignal.timeout(timeoutMs), headers: { 'user-agent': 'ct/0.1' } });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    throw new TrackerError(`tracker unreachable: ${e.name === 'TimeoutError' ? 'timed out' : e.cause?.code ?? e.message}`);
  }
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => undefined);
    throw new TrackerError(`tracker answered HTTP ${res.status}`);
  }
  const body = await readLimited(res);
  return parseHttpAnnounce(body);
}

async function readLimited(res: Response): Promise<Uint8Array> {
  const reader = res.body?.getReader();
  if (!reader) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > MAX_RESPONSE_BYTES) {
        await reader.cancel();
        throw new TrackerError(`tracker response larger than ${MAX_RESPONSE_BYTES} bytes`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof TrackerError) throw err;
    throw new TrackerError(`tracker connection failed: ${(err as Error).message}`);
  }
  return Buffer.concat(chunks);
}
