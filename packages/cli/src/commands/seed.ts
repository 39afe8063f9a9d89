/** `ct seed`: check existing data and serve it to peers until stopped. */
import { UsageError } from '@ct/engine';
import { parse, parseSeconds, requireOption } from '../args.js';
import { formatBytes } from '../format.js';
import { ProgressReporter, chooseMode } from '../progress.js';
import { SOURCE_HELP, SOURCE_OPTIONS, loadSources, peersOf, rejectStray } from '../sources.js';
import { addSource, onShutdown, openSession, reportEvents } from '../swarm.js';

export const seedHelp = `ct seed (--metainfo FILE | --magnet URI) --download-dir DIR --listen HOST:PORT [--json] [--quiet]

  Checks the data in DIR against the torrent, then serves every verified piece until Ctrl-C or
  SIGTERM, announcing to the torrent's trackers and to the DHT so leechers can find it. Files are
  opened read-only; pieces that are missing or damaged are reported and not served.

${SOURCE_HELP}
  --timeout SECONDS     for a magnet: how long to wait for its metadata (default 60)`;

export async function seed(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...SOURCE_OPTIONS,
    timeout: { type: 'string' },
    'download-dir': { type: 'string' },
    listen: { type: 'string' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
  }, true);
  rejectStray(positionals);
  const sources = await loadSources(values, positionals);
  if (sources.length !== 1) throw new UsageError('give exactly one torrent (--metainfo FILE, --magnet URI or a magnet link)');
  const dir = requireOption(values['download-dir'], 'download-dir');
  const session = await openSession(requireOption(values.listen, 'listen'), values);
  onShutdown(() => session.close(), () => 0);
  const torrent = await addSource(session, sources[0], { downloadDir: dir, readOnly: true, peers: peersOf(values) },
    parseSeconds(values.timeout, 'timeout', 60), (message) => { if (!values.quiet) process.stderr.write(`ct: ${message}\n`); });
  const meta = torrent.metainfo;
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
