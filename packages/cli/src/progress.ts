/**
 * Shows a torrent's progress: a redrawn bar on a terminal, plain lines when piped, or one JSON
 * object per second with `--json` (for scripts and our tests).
 */
import type { Torrent, TorrentStats } from '@ct/engine';
import { formatBytes, formatDuration, formatRate } from './format.js';

export type ProgressMode = 'tty' | 'plain' | 'json' | 'quiet';

export function chooseMode(json: boolean, quiet: boolean): ProgressMode {
  if (quiet) return 'quiet';
  if (json) return 'json';
  return process.stdout.isTTY ? 'tty' : 'plain';
}

export class ProgressReporter {
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private lastLine = '';
  /** Tracker messages already shown (url + text), so each appears once. */
  private readonly trackerNotes = new Set<string>();

  constructor(private readonly torrent: Torrent, private readonly mode: ProgressMode) {}

  start(): void {
    if (this.mode === 'quiet') return;
    this.timer = setInterval(() => this.render(), this.mode === 'tty' ? 250 : 1000);
  }

  /** Stops redrawing after one last frame, so even a download faster than one tick shows its bar. */
  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.mode === 'tty' || this.mode === 'plain') this.render();
    if (this.mode === 'tty' && this.lastLine) process.stdout.write('\n');
    this.lastLine = '';
  }

  /** One event line in the mode's format (JSON object or text); `jsonOnly` ones are not printed as text. */
  event(type: string, text: string, fields: Record<string, unknown> = {}, jsonOnly = false): void {
    if (this.mode === 'quiet' || (jsonOnly && this.mode !== 'json')) return;
    if (this.mode === 'json') {
      process.stdout.write(JSON.stringify({ type, ...fields }) + '\n');
      return;
    }
    if (this.mode === 'tty' && this.lastLine) process.stdout.write('\r\x1b[K');
    process.stdout.write(text + '\n');
    if (this.mode === 'tty' && this.lastLine) process.stdout.write(this.lastLine);
  }

  private render(): void {
    const s = this.torrent.stats();
    this.noteTrackers(s);
    const eta = s.downloadRate > 0 ? (s.totalBytes * (1 - s.progress)) / s.downloadRate : Infinity;
    if (this.mode === 'json') {
      process.stdout.write(JSON.stringify({ type: 'progress', ...s, eta: Number.isFinite(eta) ? Math.round(eta) : null, elapsed: (Date.now() - this.startedAt) / 1000 }) + '\n');
      return;
    }
    const line = this.mode === 'tty' ? bar(s, eta) : plain(s, eta);
    if (this.mode === 'tty') {
      process.stdout.write('\r\x1b[K' + line);
      this.lastLine = line;
    } else if (line !== this.lastLine) {
      process.stdout.write(line + '\n');
      this.lastLine = line;
    }
  }

  /** A tracker's new error or warning becomes one event line (JSON mode has them in `progress`). */
  private noteTrackers(s: TorrentStats): void {
    if (this.mode === 'json') return;
    for (const t of s.discovery?.trackers ?? []) {
      const text = t.state === 'error' ? `tracker ${t.url}: ${t.error}` : t.warning ? `tracker ${t.url} warns: ${t.warning}` : undefined;
      if (!text || this.trackerNotes.has(text)) continue;
      this.trackerNotes.add(text);
      this.event('tracker', text);
    }
  }
}

function bar(s: TorrentStats, eta: number): string {
  const width = 24;
  const filled = Math.round(s.progress * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(s.progress * 100).toFixed(1)}% ` +
    `${formatBytes(s.verifiedBytes)}/${formatBytes(s.totalBytes)}  ${formatRate(s.downloadRate)} down  ${formatRate(s.uploadRate)} up  ` +
    `peers ${s.peers}  ETA ${s.state === 'seeding' ? 'done' : formatDuration(eta)}`;
}

function plain(s: TorrentStats, eta: number): string {
  return `${s.state} ${(s.progress * 100).toFixed(1)}% ${formatBytes(s.verifiedBytes)}/${formatBytes(s.totalBytes)} ` +
    `down ${formatRate(s.downloadRate)} up ${formatRate(s.uploadRate)} peers ${s.peers} eta ${s.state === 'seeding' ? 'done' : formatDuration(eta)}`;
}
