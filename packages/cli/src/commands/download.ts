/** `ct download`: fetch a torrent from given peers, verify it, optionally keep seeding. */
import { UsageError } from '@ct/engine';
import { parse, parseSeconds } from '../args.js';
import { ProgressReporter, chooseMode } from '../progress.js';
import { serveHttp } from '../http.js';
import { SOURCE_HELP, SOURCE_OPTIONS, loadSources, peersOf, rejectStray } from '../sources.js';
import { addSource, onShutdown, openSession, reportEvents, summary, waitForDone } from '../swarm.js';

export const downloadHelp = `ct download (--metainfo FILE | --magnet URI | 'magnet:?...') [--seeds HOST:PORT,...] [options]

${SOURCE_HELP}
  --download-dir DIR    where files go (default: current directory)
  --listen HOST:PORT    accept peers here (default 0.0.0.0:0, any free port)
  --seed                keep seeding after the download completes (until Ctrl-C; exits 0)
  --http HOST:PORT      also serve the files over HTTP with Range while downloading (reads jump
                        the queue); keeps serving and seeding after completion until Ctrl-C
  --timeout SECONDS     give up when no peer is reachable (or, for a magnet, no peer gave the
                        metadata) for this long (default 60)
  --json                one JSON object per second instead of a progress bar
  --quiet               print only the summary`;

export async function download(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...SOURCE_OPTIONS,
    'download-dir': { type: 'string' },
    listen: { type: 'string' },
    seed: { type: 'boolean' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
    http: { type: 'string' },
  }, true);
  rejectStray(positionals);
  const sources = await loadSources(values, positionals);
  if (sources.length !== 1) throw new UsageError('give exactly one torrent (--metainfo FILE, --magnet URI or a magnet link)');
  const peers = peersOf(values);
  const timeout = parseSeconds(values.timeout, 'timeout', 60);
  const session = await openSession(values.listen, values);
  // Interrupting the download is a failure (130/143); stopping the seeding or serving after it
  // completed is how one ends those, so it exits 0 like `ct seed`.
  let completed = false;
  onShutdown(() => session.close(), (sig) => (completed ? 0 : sig === 'SIGINT' ? 130 : 143));
  const started = Date.now();
  const torrent = await addSource(session, sources[0], { downloadDir: values['download-dir'] ?? '.', peers }, timeout,
    (message) => { if (!values.quiet) process.stderr.write(`ct: ${message}\n`); });
  const meta = torrent.metainfo;
  const reporter = new ProgressReporter(torrent, chooseMode(!!values.json, !!values.quiet));
  reportEvents(torrent, reporter);
  const listen = session.listenAddress;
  reporter.event('started', `downloading ${meta.name} (${meta.infoHashHex}) listening on ${listen?.host}:${listen?.port}`,
    { name: meta.name, infoHash: meta.infoHashHex, port: listen?.port, alreadyHave: torrent.stats().piecesHave });
  if (values.http) await serveHttp(session, values.http, reporter);
  reporter.start();
  try {
    await waitForDone(torrent, timeout);
  } finally {
    reporter.stop();
  }
  completed = true;
  const seconds = (Date.now() - started) / 1000;
  const s = torrent.stats();
  if (values.json) process.stdout.write(JSON.stringify({ type: 'done', ...s, seconds }) + '\n');
  else process.stdout.write(summary(torrent, seconds) + '\n');
  if (values.seed || values.http) {
    reporter.event('seeding', `seeding ${meta.name}; Ctrl-C to stop`);
    reporter.start();
    return new Promise<number>(() => undefined); // runs until a signal
  }
  await session.close();
  return 0;
}
