/**
 * What an announce sends and what it gets back, shared by the HTTP and UDP tracker clients, and
 * the pure parts of reading a tracker's answer: compact peer lists and interval clamping.
 */

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

