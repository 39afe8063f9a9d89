/** `ct download`: fetch a torrent from peers, verify it, optionally keep seeding or serving HTTP. */
import type { Command } from 'commander';
import type { Torrent } from '@ct/engine';
import { formatBytes } from '../format.js';
import { selectFiles, parsePatterns } from '../file-selection.js';
import { serveHttp } from '../http.js';
import { listenOption, parseHttp, timeoutOption } from '../options.js';
import { addOutputOptions, examples, logger, type OutputOptions } from '../output-options.js';
import { ProgressReporter, chooseMode } from '../progress.js';
import { SOURCE_NOTE, addSourceOptions, loadOneSource, type SourceOptions } from '../sources.js';
import { addSource, interruptedSummary, onShutdown, openSession, reportEvents, summary, waitForDone } from '../swarm.js';

interface DownloadOptions extends SourceOptions, OutputOptions {
  downloadDir: string;
  listen: string;
  seed?: boolean;
  http?: string;
  timeout: number;
  select?: string[];
  exclude?: string[];
  list?: boolean;
}

export function register(program: Command): void {
  const cmd = program.command('download')
    .summary('fetch a torrent from peers, verify it, optionally keep seeding')
    .description('Fetches the torrent into the download dir, verifying every piece, then prints a summary and exits 0.\n' +
      'Data already there is checked first and only what is missing is fetched, so an interrupted download resumes.\n' +
      'Given peers that refuse or drop the connection are retried with back-off for as long as it runs.' + SOURCE_NOTE)
    .argument('[torrent]', '.torrent file or magnet link');
  addSourceOptions(cmd)
    .option('--download-dir <dir>', 'where files go', '.')
    .addOption(listenOption())
    .option('--select <glob|index,...>', 'fetch only these files: 1-based indices from --list, ranges (3-7) or globs (*.mkv); repeatable', parsePatterns)
    .option('--exclude <glob|index,...>', 'do not fetch these files (same forms as --select); repeatable', parsePatterns)
    .option('--list', 'print the files with their indices and exit (a magnet\'s metadata is fetched first)')
    .option('--seed', 'keep seeding after the download completes, until Ctrl-C (then exit 0)')
    .option('--http <[host:]port>', 'also serve the files over HTTP with Range while downloading (a bare port means 127.0.0.1); keeps serving after completion until Ctrl-C', parseHttp)
    .addOption(timeoutOption('give up when no peer is reachable, or no peer sent data, for this long (a magnet: no peer gave its metadata)'));
  addOutputOptions(cmd);
  examples(cmd, [
    'ct download ubuntu.torrent',
    "ct download 'magnet:?xt=urn:btih:...' --download-dir ~/Downloads --seed",
    'ct download pack.torrent --select "*.mkv" --exclude 3 --seeds 10.0.0.5:6881',
  ]);
  cmd.action((torrent: string | undefined, opts: DownloadOptions) => download(torrent, opts));
}

async function download(arg: string | undefined, opts: DownloadOptions): Promise<void> {
  const source = await loadOneSource(opts, arg ? [arg] : []);
  const log = logger(opts);
  const session = await openSession(opts.listen, opts);
  // Interrupting the download is a failure (130/143) that says where it stopped; stopping the
  // seeding or serving after it completed is how one ends those, so it exits 0 like `ct seed`.
  let completed = false;
  let torrentForSignal: Torrent | undefined;
  onShutdown(async () => {
    if (!completed && torrentForSignal && !opts.json) process.stderr.write(`\nct: ${interruptedSummary(torrentForSignal)}\n`);
    await session.close();
  }, (sig) => (completed ? 0 : sig === 'SIGINT' ? 130 : 143));
  const started = Date.now();
  const torrent = await addSource(session, source, { downloadDir: opts.downloadDir, peers: opts.seeds ?? [], onDemand: !!opts.list }, opts.timeout, log);
  torrentForSignal = torrent;
  const meta = torrent.metainfo;
  if (opts.list) {
    torrent.files.forEach((f, i) => process.stdout.write(`${String(i + 1).padStart(4)}  ${formatBytes(f.length).padStart(10)}  ${f.path}\n`));
    await session.close();
    return;
  }
  if (opts.select || opts.exclude) {
    const wanted = selectFiles(torrent.files.map((f) => f.path), opts.select, opts.exclude);
    torrent.files.forEach((f, i) => { if (!wanted[i]) f.deselect(); });
  }
  const reporter = new ProgressReporter(torrent, chooseMode(opts), { role: 'download', verbose: opts.verbose });
  reportEvents(torrent, reporter);
  const listen = session.listenAddress;
  reporter.event('started', `downloading ${meta.name} (${meta.infoHashHex}), listening on ${listen?.host}:${listen?.port}`,
    { name: meta.name, infoHash: meta.infoHashHex, port: listen?.port, alreadyHave: torrent.stats().piecesHave, ...torrent.startupCheck });
  if (opts.http) await serveHttp(session, opts.http, reporter);
  reporter.start();
  try {
    await waitForDone(torrent, opts.timeout);
  } finally {
    reporter.stop();
  }
  completed = true;
  const seconds = (Date.now() - started) / 1000;
  if (opts.json) process.stdout.write(JSON.stringify({ type: 'done', ...torrent.stats(), seconds }) + '\n');
  else process.stdout.write(summary(torrent, seconds) + '\n');
  if (opts.seed || opts.http) {
    const seeding = new ProgressReporter(torrent, reporter.mode, { role: 'seed', verbose: opts.verbose });
    seeding.event('seeding', `seeding ${meta.name}; Ctrl-C to stop`);
    seeding.start();
    return new Promise<void>(() => undefined); // runs until a signal
  }
  await session.close();
}
