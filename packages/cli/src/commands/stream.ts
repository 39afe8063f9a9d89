/** `ct stream`: serve a torrent's files over HTTP, downloading on demand what clients read. */
import { UsageError } from '@ct/engine';
import { parse, parseSeconds, requireOption } from '../args.js';
import { serveHttp } from '../http.js';
import { ProgressReporter, chooseMode } from '../progress.js';
import { SOURCE_HELP, SOURCE_OPTIONS, loadSources, peersOf, rejectStray } from '../sources.js';
import { addSource, onShutdown, openSession, reportEvents } from '../swarm.js';

export const streamHelp = `ct stream (--metainfo FILE | --magnet URI) [--seeds HOST:PORT,...] --http HOST:PORT [--download-dir DIR] [--json]

  Serves every file of the torrent over HTTP with Range support (players can start and seek) at
  /<torrent name>/<path> (a single-file torrent: /<file name>); / lists them. Only what clients
  read (plus readahead) is downloaded, into DIR (default: current directory). Runs until Ctrl-C.

${SOURCE_HELP}
  --timeout SECONDS     for a magnet: how long to wait for its metadata (default 60)`;

export async function stream(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...SOURCE_OPTIONS,
    timeout: { type: 'string' },
    http: { type: 'string' },
    'download-dir': { type: 'string' },
    listen: { type: 'string' },
    json: { type: 'boolean' },
  }, true);
  rejectStray(positionals);
  const sources = await loadSources(values, positionals);
  if (sources.length !== 1) throw new UsageError('give exactly one torrent');
  const peers = peersOf(values);
  const http = requireOption(values.http, 'http');
  const session = await openSession(values.listen, values);
  const torrent = await addSource(session, sources[0], { downloadDir: values['download-dir'] ?? '.', peers, onDemand: true },
    parseSeconds(values.timeout, 'timeout', 60), (m) => process.stderr.write(`ct: ${m}\n`));
  // Events only: a progress line per second says little when only what is read gets fetched.
  const reporter = new ProgressReporter(torrent, chooseMode(!!values.json, false));
  reportEvents(torrent, reporter);
  const server = await serveHttp(session, http, reporter);
  onShutdown(async () => {
    await server.close();
    await session.close();
  }, () => 0);
  return new Promise<number>(() => undefined); // runs until a signal
}
