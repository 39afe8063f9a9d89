/** `ct seed`: check existing data and serve it to peers until stopped. */
import type { Command } from 'commander';
import { formatBytes, formatDuration } from '../format.js';
import { listenOption, timeoutOption } from '../options.js';
import { addOutputOptions, examples, logger, type OutputOptions } from '../output-options.js';
import { ProgressReporter, chooseMode } from '../progress.js';
import { checkSeedDir } from '../seed-check.js';
import { SOURCE_NOTE, addSourceOptions, loadOneSource, type SourceOptions } from '../sources.js';
import { addSource, onShutdown, openSession, reportEvents } from '../swarm.js';

interface SeedOptions extends SourceOptions, OutputOptions {
  downloadDir: string;
  listen: string;
  timeout: number;
}

export function register(program: Command): void {
  const cmd = program.command('seed')
    .summary('check existing data and serve it')
    .description('Checks the data in the download dir against the torrent, says how much of it is there, then serves\n' +
      'every verified piece until Ctrl-C or SIGTERM (exit 0), announcing to its trackers and the DHT. Files are\n' +
      'opened read-only; a piece is hashed again before it is uploaded if its file was written since the check. Peers given with --seeds are\n' +
      'dialed (for clients that never dial loopback or LAN peers). A folder holding none of the files is refused.' + SOURCE_NOTE)
    .argument('[torrent]', '.torrent file or magnet link');
  addSourceOptions(cmd)
    .option('--download-dir <dir>', 'the folder holding the data (the torrent\'s folder is inside it)', '.')
    .addOption(listenOption())
    .addOption(timeoutOption('for a magnet: how long to wait for its metadata'));
  addOutputOptions(cmd);
  examples(cmd, [
    'ct seed ubuntu.torrent --download-dir ~/Downloads --listen 0.0.0.0:6881',
    'ct seed pack.torrent --seeds 192.168.1.20:51413   # also dial a client that will not dial us',
  ]);
  cmd.action((torrent: string | undefined, opts: SeedOptions) => seed(torrent, opts));
}

async function seed(arg: string | undefined, opts: SeedOptions): Promise<void> {
  const source = await loadOneSource(opts, arg ? [arg] : []);
  if (source.kind === 'file') checkSeedDir(source.meta, opts.downloadDir);
  const session = await openSession(opts.listen, opts);
  const started = Date.now();
  const torrent = await addSource(session, source, { downloadDir: opts.downloadDir, readOnly: true, peers: opts.seeds ?? [] }, opts.timeout, logger(opts));
  if (source.kind === 'magnet') checkSeedDir(torrent.metainfo, opts.downloadDir);
  onShutdown(async () => {
    const s = torrent.stats();
    if (!opts.json) process.stdout.write(`uploaded ${formatBytes(s.uploaded)} in ${formatDuration((Date.now() - started) / 1000)}\n`);
    else process.stdout.write(JSON.stringify({ type: 'stopped', uploaded: s.uploaded, seconds: (Date.now() - started) / 1000 }) + '\n');
    await session.close();
  }, () => 0);
  const meta = torrent.metainfo;
  const reporter = new ProgressReporter(torrent, chooseMode(opts), { role: 'seed', verbose: opts.verbose });
  reportEvents(torrent, reporter);
  const s = torrent.stats();
  const addr = session.listenAddress;
  const present = s.piecesHave === s.piecesTotal ? `all ${formatBytes(s.totalBytes)}`
    : `${formatBytes(s.verifiedBytes)} of ${formatBytes(s.totalBytes)} (${s.piecesHave}/${s.piecesTotal} pieces; the rest is missing or damaged)`;
  reporter.event('ready', `seeding ${meta.name} (${meta.infoHashHex}) on ${addr?.host}:${addr?.port}: ${present}`,
    { name: meta.name, infoHash: meta.infoHashHex, host: addr?.host, port: addr?.port, piecesHave: s.piecesHave, piecesTotal: s.piecesTotal, ...torrent.startupCheck });
  if (opts.quiet) process.stdout.write(`seeding on ${addr?.host}:${addr?.port}: ${present}\n`);
  reporter.start();
  return new Promise<void>(() => undefined); // runs until a signal
}
