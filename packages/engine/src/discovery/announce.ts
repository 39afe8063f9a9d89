/**
 * What an announce sends and what it gets back, shared by the HTTP and UDP tracker clients, and
 * the pure parts of reading a tracker's answer: compact peer lists and interval clamping.
 */
import { formatHostPort } from '../util/address.js';

export type AnnounceEvent = 'started' | 'completed' | 'stopped' | undefined;

export interface AnnounceParams {
  infoHash: Buffer;
  peerId: Buffer;
  port: number;
  uploaded: number;
  downloaded: number;
  left: number;
  event: AnnounceEvent;
  numwant: number;
  /** Random per session, lets a tracker recognise us across address changes. */
  key: number;
  /** Echoed back when an HTTP tracker gave one. */
  trackerId?: Buffer;
}

export interface AnnounceResult {
  /** Seconds until the next regular announce, as the tracker asked (before clamping). */
  interval: number;
  minInterval?: number;
  peers: string[];
  seeders?: number;
  leechers?: number;
  /** A tracker's "warning message": the announce worked, but the tracker has something to say. */
  warning?: string;
  trackerId?: Buffer;
}

/** Bounds on re-announce intervals: a tracker asking for 1 s or for 136 years gets these instead. */
export const MIN_ANNOUNCE_SEC = 60;
export const MAX_ANNOUNCE_SEC = 2 * 60 * 60;
export const DEFAULT_ANNOUNCE_SEC = 30 * 60;

/** Seconds until the next announce for a tracker's `interval` / `min interval` (any values). */
export function nextAnnounceSec(interval: unknown, minInterval?: unknown, floorSec = MIN_ANNOUNCE_SEC): number {
  const asked = typeof interval === 'number' && Number.isFinite(interval) && interval > 0 ? interval : DEFAULT_ANNOUNCE_SEC;
  const floor = typeof minInterval === 'number' && Number.isFinite(minInterval) && minInterval > 0 ? Math.min(minInterval, MAX_ANNOUNCE_SEC) : 0;
  return Math.min(MAX_ANNOUNCE_SEC, Math.max(floorSec, asked, floor));
}

/** Peers in compact form: 6 bytes each (IPv4 + port) or 18 (IPv6 + port); port 0 is skipped. */
export function parseCompactPeers(buf: Uint8Array, v6: boolean, limit = 1000): string[] {
  const size = v6 ? 18 : 6;
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: string[] = [];
  for (let at = 0; at + size <= b.length && out.length < limit; at += size) {
    const port = b.readUInt16BE(at + size - 2);
    if (port === 0) continue;
    let host: string;
    if (v6) {
      const groups: string[] = [];
      for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(at + i * 2).toString(16));
      host = groups.join(':');
    } else {
      host = `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
    }
    out.push(formatHostPort({ host, port }));
  }
  return out;
}
