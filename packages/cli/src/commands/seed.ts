/** `ct seed`: check existing data and serve it to peers until stopped. */
import { parse, requireOption } from '../args.js';
import { formatBytes } from '../format.js';
import { loadTorrentFile } from '../load-torrent.js';
import { ProgressReporter, chooseMode } from '../progress.js';
import { onShutdown, openSession, reportEvents } from '../swarm.js';

export const seedHelp = `ct seed --metainfo FILE --download-dir DIR --listen HOST:PORT [--json] [--quiet]

  Checks the data in DIR against FILE, then serves every verified piece until Ctrl-C or SIGTERM.
  Files are opened read-only; pieces that are missing or damaged are reported and not served.`;

export async function seed(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    metainfo: { type: 'string' },
    'download-dir': { type: 'string' },
    listen: { type: 'string' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
  });
  const meta = await loadTorrentFile(requireOption(values.metainfo, 'metainfo'));
  const dir = requireOption(values['download-dir'], 'download-dir');
  const session = await openSession(requireOption(values.listen, 'listen'));
  onShutdown(() => session.close(), () => 0);
  const torrent = await session.addTorrent(meta, { downloadDir: dir, readOnly: true });
  const reporter = new ProgressReporter(torrent, chooseMode(!!values.json, !!values.quiet));
  reportEvents(torrent, reporter);
  const s = torrent.stats();
  const addr = session.listenAddress;
  const present = `${s.piecesHave}/${s.piecesTotal} pieces (${formatBytes(s.verifiedBytes)} of ${formatBytes(s.totalBytes)})`;
  reporter.event('ready', `seeding ${meta.name} (${meta.infoHashHex}) on ${addr?.host}:${addr?.port}: ${present}`,
    { name: meta.name, infoHash: meta.infoHashHex, host: addr?.host, port: addr?.port, piecesHave: s.piecesHave, piecesTotal: s.piecesTotal });
  if (values.quiet) process.stdout.write(`seeding on ${addr?.host}:${addr?.port}: ${present}\n`);
  reporter.start();
  return new Promise<number>(() => undefined); // runs until a signal
}
