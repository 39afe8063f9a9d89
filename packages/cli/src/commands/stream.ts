/** `ct stream`: serve a torrent's files over HTTP, downloading on demand what clients read. */
import type { Command } from 'commander';
import { serveHttp } from '../http.js';
import { listenOption, parseHttp, timeoutOption } from '../options.js';
import { addOutputOptions, examples, logger, type OutputOptions } from '../output-options.js';
import { ProgressReporter, chooseMode } from '../progress.js';
import { SOURCE_NOTE, addSourceOptions, loadOneSource, type SourceOptions } from '../sources.js';
import { addSource, onShutdown, openSession, reportEvents } from '../swarm.js';

interface StreamOptions extends SourceOptions, OutputOptions {
  http: string;
  downloadDir: string;
  listen: string;
  timeout: number;
}

export function register(program: Command): void {
  const cmd = program.command('stream')
    .summary('serve a torrent\'s files over HTTP (Range, seeking), downloading on demand')
    .description('Serves every file of the torrent over HTTP with Range (players can start at once and seek) at\n' +
      '/<torrent name>/<path> (a single-file torrent: /<file name>), each segment percent-encoded; / lists them.\n' +
      'Only what clients read (plus readahead) is downloaded. Runs until Ctrl-C.' + SOURCE_NOTE)
    .argument('[torrent]', '.torrent file or magnet link');
  addSourceOptions(cmd)
    .option('--http <[host:]port>', 'where to serve (a bare port means 127.0.0.1)', parseHttp, '127.0.0.1:8888')
    .option('--download-dir <dir>', 'where fetched data goes', '.')
    .addOption(listenOption())
    .addOption(timeoutOption('for a magnet: how long to wait for its metadata'));
  addOutputOptions(cmd);
  examples(cmd, ['ct stream movie.torrent --http 8888   # then: mpv http://127.0.0.1:8888/movie.mkv']);
  cmd.action((torrent: string | undefined, opts: StreamOptions) => stream(torrent, opts));
}

async function stream(arg: string | undefined, opts: StreamOptions): Promise<void> {
  const source = await loadOneSource(opts, arg ? [arg] : []);
  const session = await openSession(opts.listen, opts);
  const torrent = await addSource(session, source, { downloadDir: opts.downloadDir, peers: opts.seeds ?? [], onDemand: true }, opts.timeout, logger(opts));
  // Events only: a progress line per second says little when only what is read gets fetched.
  const reporter = new ProgressReporter(torrent, chooseMode(opts), { role: 'stream', onDemand: true, verbose: opts.verbose });
  reportEvents(torrent, reporter);
  const server = await serveHttp(session, opts.http, reporter);
  onShutdown(async () => {
    await server.close();
    await session.close();
  }, () => 0);
  return new Promise<void>(() => undefined); // runs until a signal
}
