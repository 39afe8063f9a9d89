/**
 * Shows a torrent's progress: a line redrawn in place on a terminal (fitted to its width), one
 * plain line per second when piped, or one JSON object per second with `--json` (for scripts and
 * our tests); events (bans, hash failures, and with --verbose every peer event) as lines between.
 */
import type { Torrent, TorrentStats } from '@ct/engine';
import { RateSampler } from './rate-sampler.js';
import { eta, plainLine, ttyLine, type LineInput, type Role } from './progress-line.js';

export type ProgressMode = 'tty' | 'plain' | 'json' | 'quiet';

export function chooseMode(opts: { json?: boolean; quiet?: boolean }): ProgressMode {
  if (opts.quiet) return 'quiet';
  if (opts.json) return 'json';
  return process.stdout.isTTY ? 'tty' : 'plain';
}

export interface ReporterOptions {
  role: Role;
  onDemand?: boolean;
  /** With --verbose: peer connections, disconnections and tracker answers are printed too. */
  verbose?: boolean;
}

export class ProgressReporter {
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private lastLine = '';
  private readonly down = new RateSampler();
  private readonly up = new RateSampler();
  /** Tracker messages already shown (url + text), so each appears once. */
  private readonly trackerNotes = new Set<string>();

  constructor(private readonly torrent: Torrent, readonly mode: ProgressMode, private readonly opts: ReporterOptions) {}

  start(): void {
    if (this.mode === 'quiet' || this.timer) return;
    this.sample();
    this.timer = setInterval(() => this.render(), this.mode === 'tty' ? 250 : 1000);
  }

  /** Stops redrawing; the caller prints the summary line that replaces the bar. */
  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.mode === 'tty' && this.lastLine) process.stdout.write('\r\x1b[K');
    this.lastLine = '';
  }

  /**
   * One event line in the mode's format (JSON object or text). `verboseOnly` ones are printed as
   * text only with --verbose (always in JSON).
   */
  event(type: string, text: string, fields: Record<string, unknown> = {}, verboseOnly = false): void {
    if (this.mode === 'quiet') return;
    if (this.mode === 'json') {
      process.stdout.write(JSON.stringify({ type, ...fields }) + '\n');
      return;
    }
    if (verboseOnly && !this.opts.verbose) return;
    if (this.mode === 'tty' && this.lastLine) process.stdout.write('\r\x1b[K');
    process.stdout.write(text + '\n');
    if (this.mode === 'tty' && this.lastLine) process.stdout.write(this.lastLine);
  }

  private sample(): void {
    const now = Date.now();
    const s = this.torrent.stats();
    this.down.sample(now, s.downloaded);
    this.up.sample(now, s.uploaded);
  }

  /** The current line's inputs (windowed rates), for the reporter and the summary. */
  input(stats: TorrentStats = this.torrent.stats()): LineInput {
    return { stats, role: this.opts.role, downloadRate: this.down.rate(), uploadRate: this.up.rate(), done: this.torrent.isDone, onDemand: this.opts.onDemand };
  }

  private render(): void {
    this.sample();
    const i = this.input();
    this.noteTrackers(i.stats);
    if (this.mode === 'json') {
      const e = eta(i);
      process.stdout.write(JSON.stringify({ type: 'progress', ...i.stats, downloadRate: i.downloadRate, uploadRate: i.uploadRate,
        eta: Number.isFinite(e) ? Math.round(e) : null, elapsed: (Date.now() - this.startedAt) / 1000 }) + '\n');
      return;
    }
    if (this.mode === 'plain') {
      process.stdout.write(plainLine(i) + '\n');
      return;
    }
    const line = ttyLine(i, process.stdout.columns || 80);
    process.stdout.write('\r\x1b[K' + line);
    this.lastLine = line;
  }

  /** A tracker's new error or warning becomes one event line (JSON mode has them in `progress`). */
  private noteTrackers(s: TorrentStats): void {
    if (this.mode === 'json') return;
    for (const t of s.discovery?.trackers ?? []) {
      const text = t.state === 'error' ? `tracker ${t.url}: ${t.error}` : t.warning ? `tracker ${t.url} warns: ${t.warning}`
        : this.opts.verbose && t.state === 'working' ? `tracker ${t.url}: ${t.peers} peers (${t.seeders ?? '?'} seeders)` : undefined;
      if (!text || this.trackerNotes.has(text)) continue;
      this.trackerNotes.add(text);
      this.event('tracker', text);
    }
  }
}
