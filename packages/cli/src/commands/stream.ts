/** `ct stream`: serve a torrent's files over HTTP, downloading on demand what clients read. */
import { parse, requireOption } from '../args.js';
import { serveHttp } from '../http.js';
import { loadTorrentFile, splitList } from '../load-torrent.js';
import { ProgressReporter, chooseMode } from '../progress.js';
import { onShutdown, openSession, reportEvents } from '../swarm.js';

export const streamHelp = `ct stream --metainfo FILE --seeds HOST:PORT[,...] --http HOST:PORT [--download-dir DIR] [--json]

  Serves every file of the torrent over HTTP with Range support (players can start and seek) at
  /<torrent name>/<path> (a single-file torrent: /<file name>); / lists them. Only what clients
  read (plus readahead) is downloaded, into DIR (default: current directory). Runs until Ctrl-C.`;

export async function stream(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    metainfo: { type: 'string' },
    seeds: { type: 'string' },
    http: { type: 'string' },
    'download-dir': { type: 'string' },
    listen: { type: 'string' },
    json: { type: 'boolean' },
  });
  const meta = await loadTorrentFile(requireOption(values.metainfo, 'metainfo'));
  const peers = splitList(requireOption(values.seeds, 'seeds'));
  const http = requireOption(values.http, 'http');
  const session = await openSession(values.listen);
  const torrent = await session.addTorrent(meta, { downloadDir: values['download-dir'] ?? '.', peers, onDemand: true });
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
