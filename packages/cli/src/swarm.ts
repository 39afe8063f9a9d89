/**
 * What `download`, `seed`, `cat`, `stream` and `demo` share: opening a session, reporting a
 * torrent's events, waiting for completion with a deadline that names what was tried, and
 * clean shutdown on signals.
 */
import { CtError, Session, describeUnreachable, parseHostPort, type AddTorrentOptions, type SessionOptions, type Torrent } from '@ct/engine';
import { formatBytes, formatRate } from './format.js';
import type { ProgressReporter } from './progress.js';
import { sessionSettings, sourceName, type SourceOptions, type TorrentSource } from './sources.js';

export async function openSession(listen: string, sources: SourceOptions = { dht: false }, extra: Pick<SessionOptions, 'cache'> = {}): Promise<Session> {
  return Session.create({ listen: parseHostPort(listen, { listen: true }), ...sessionSettings(sources), ...extra });
}

/**
 * Adds a .torrent or a magnet link. A magnet's metadata must arrive within `timeoutSec`
 * (ENO_PEERS otherwise; no limit when undefined); `log` hears about it and about peers dropped on the way.
 */
export async function addSource(session: Session, source: TorrentSource, opts: AddTorrentOptions, timeoutSec: number | undefined,
  log: (message: string) => void = () => undefined): Promise<Torrent> {
  if (source.kind === 'file') return session.addTorrent(source.meta, opts);
  const name = sourceName(source);
  const signal = timeoutSec === undefined ? undefined : AbortSignal.timeout(timeoutSec * 1000);
  try {
    return await session.addMagnet(source.magnet, {
      ...opts, signal,
      onFetching: () => log(`fetching metadata for ${name} (${source.magnet.infoHashHex}) from peers`),
      onPeerFailed: (address, reason) => log(`metadata: dropped ${address}: ${reason}`),
      onMetadata: (meta) => log(`metadata for ${meta.name} arrived (${meta.pieceCount} pieces, ${formatBytes(meta.totalLength)})`),
    });
  } catch (err) {
    if (signal?.aborted) throw new CtError('ENO_PEERS', `no peer gave the metadata of ${name} within ${timeoutSec} s`);
    throw err;
  }
}

/** Prints bans, hash failures and (with --verbose, or always in JSON) connection events as they happen. */
export function reportEvents(torrent: Torrent, reporter: ProgressReporter): void {
  torrent.on('peer-banned', (peer, reason) => reporter.event('peer-banned', `banned ${peer}: ${reason}`, { peer, reason }));
  torrent.on('hash-failed', (piece, peers) => reporter.event('hash-failed', `piece ${piece} failed its hash check (from ${peers.join(', ') || '?'})`, { piece, peers }, true));
  torrent.on('peer-connected', (peer) => reporter.event('peer-connected', `connected to ${peer}`, { peer }, true));
  torrent.on('peer-disconnected', (peer, reason) => reporter.event('peer-disconnected', `disconnected from ${peer}: ${reason}`, { peer, reason }, true));
  torrent.on('piece-lost', (piece) => reporter.event('piece-lost', `piece ${piece} changed on disk since it was verified; fetching it again`, { piece }));
}

/** What discovery tried, for "no peer" messages: trackers, the DHT. */
export function discoverySummary(torrent: Torrent): string {
  const d = torrent.stats().discovery;
  const parts: string[] = [];
  if (!d || d.trackers.length === 0) parts.push('no trackers');
  else {
    const errors = d.trackers.filter((t) => t.state === 'error');
    const found = d.trackers.reduce((n, t) => n + (t.peers ?? 0), 0);
    parts.push(errors.length === d.trackers.length ? `every tracker failed (${errors[0].error})` : `trackers found ${found} peer${found === 1 ? '' : 's'}`);
  }
  if (torrent.metainfo.private) parts.push('DHT not used (private torrent)');
  else if (!d?.dht.enabled) parts.push('DHT off');
  else parts.push(`DHT found ${d.dht.peersFound} peer${d.dht.peersFound === 1 ? '' : 's'}`);
  return parts.join(', ');
}

/**
 * Resolves when every wanted piece is verified. Rejects on a fatal torrent error, or with
 * ENO_PEERS when no peer completed a handshake within `timeoutSec`, or when the peers that did
 * sent no data for that long (a peer without the missing pieces would otherwise hold it forever).
 */
export function waitForDone(torrent: Torrent, timeoutSec: number): Promise<void> {
  if (torrent.isDone) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let lastBytes = torrent.stats().downloaded;
    let lastMoveAt = Date.now();
    const timer = setInterval(() => {
      const now = Date.now();
      const s = torrent.stats();
      if (s.downloaded !== lastBytes) {
        lastBytes = s.downloaded;
        lastMoveAt = now;
      }
      if (now - lastMoveAt < timeoutSec * 1000) return;
      if (!torrent.hasConnectedPeer) {
        const why = describeUnreachable(torrent.connectionReport());
        finish(new CtError('ENO_PEERS', `no peer reachable within ${timeoutSec} s (${[why, discoverySummary(torrent)].filter(Boolean).join('; ')})`));
      } else {
        finish(new CtError('ENO_PEERS', `no data from any peer for ${timeoutSec} s (${s.peers} connected, none sent what is missing; ${discoverySummary(torrent)})`));
      }
    }, 250);
    const onDone = () => finish();
    const onError = (err: CtError) => finish(err);
    const finish = (err?: CtError) => {
      clearInterval(timer);
      torrent.off('done', onDone);
      torrent.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    torrent.on('done', onDone);
    torrent.on('error', onError);
  });
}

export function summary(torrent: Torrent, seconds: number): string {
  const s = torrent.stats();
  const rate = seconds > 0 ? s.downloaded / seconds : 0;
  return `done: ${torrent.metainfo.name} ${formatBytes(s.verifiedBytes)} verified; downloaded ${formatBytes(s.downloaded)} in ${seconds.toFixed(1)} s ` +
    `(${formatRate(rate)}); hash failures ${s.hashFailures}, banned peers ${s.bannedPeers}`;
}

/** Where an interrupted download stopped, and that running it again resumes. */
export function interruptedSummary(torrent: Torrent): string {
  const s = torrent.stats();
  return `stopped at ${(s.progress * 100).toFixed(1)}% (${formatBytes(s.verifiedBytes)} of ${formatBytes(s.totalBytes)} verified); ` +
    'run the same command again to resume';
}

/** Runs `cleanup` once on SIGINT/SIGTERM, then exits with `code`. */
export function onShutdown(cleanup: () => Promise<void>, code: (signal: NodeJS.Signals) => number): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    cleanup().finally(() => process.exit(code(signal)));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}
