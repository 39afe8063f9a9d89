/**
 * What a progress line says, and how it fits a terminal. Pure: the reporter feeds it a
 * torrent's stats, the role of the command and the terminal width.
 */
import type { TorrentStats } from '@ct/engine';
import { formatBytes, formatDuration, formatRate } from './format.js';

/** What the command does with the torrent: labels differ (a partial seed is not "downloading"). */
export type Role = 'download' | 'seed' | 'stream';

export interface LineInput {
  stats: TorrentStats;
  role: Role;
  /** Windowed rates (RateSampler), bytes/s. */
  downloadRate: number;
  uploadRate: number;
  /** Download finished (every wanted piece verified). */
  done: boolean;
  /** On-demand torrent (mount, stream): nothing is fetched unless read. */
  onDemand?: boolean;
}

export function stateLabel(i: LineInput): string {
  const s = i.stats;
  if (s.state === 'checking' || s.state === 'error' || s.state === 'closed') return s.state;
  if (i.role === 'seed') return s.piecesHave === s.piecesTotal ? 'seeding' : `seeding ${formatBytes(s.verifiedBytes)} of ${formatBytes(s.totalBytes)}`;
  if (i.done) return i.role === 'download' ? 'done' : s.state === 'seeding' ? 'seeding' : 'idle';
  if (i.onDemand && i.downloadRate === 0) return 'idle';
  return 'downloading';
}

export function eta(i: LineInput): number {
  if (i.done) return 0;
  const remaining = i.stats.totalBytes * (1 - i.stats.progress);
  return i.downloadRate > 0 ? remaining / i.downloadRate : Infinity;
}

/** One line for a pipe or a log: every field, always. */
export function plainLine(i: LineInput): string {
  const s = i.stats;
  return `${stateLabel(i)} ${(s.progress * 100).toFixed(1)}% ${formatBytes(s.verifiedBytes)}/${formatBytes(s.totalBytes)} ` +
    `down ${formatRate(i.downloadRate)} up ${formatRate(i.uploadRate)} peers ${s.peers} eta ${i.done ? 'done' : formatDuration(eta(i))}`;
}

/**
 * The terminal line, never wider than `width - 1` (the last column would make some terminals
 * wrap): state and percentage always, then as many fields as fit in order of use (bytes, rate,
 * ETA, peers, upload rate), then a bar in the room left.
 */
export function ttyLine(i: LineInput, width: number): string {
  const s = i.stats;
  const max = Math.max(10, width - 1);
  const head = `${stateLabel(i)} ${(s.progress * 100).toFixed(1)}%`;
  const optional = [
    `${formatBytes(s.verifiedBytes)}/${formatBytes(s.totalBytes)}`,
    `${formatRate(i.downloadRate)} down`,
    `ETA ${i.done ? 'done' : formatDuration(eta(i))}`,
    `peers ${s.peers}`,
    `${formatRate(i.uploadRate)} up`,
  ];
  let line = head;
  for (const field of optional) {
    if (line.length + 2 + field.length > max) break;
    line += `  ${field}`;
  }
  const room = max - line.length - 3; // "[" + bar + "] "
  if (room >= 10) {
    const w = Math.min(30, room);
    const filled = Math.round(s.progress * w);
    line = `[${'#'.repeat(filled)}${'.'.repeat(w - filled)}] ${line}`;
  }
  return line.length > max ? line.slice(0, max) : line;
}
