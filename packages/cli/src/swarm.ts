/**
 * What `download`, `seed` and `demo` share: opening a session, reporting a torrent's events,
 * waiting for completion with a "no peer reachable" deadline, and clean shutdown on signals.
 */
import { CtError, Session, describeUnreachable, parseHostPort, type AddTorrentOptions, type Torrent } from '@ct/engine';
import { formatBytes, formatRate } from './format.js';
import type { ProgressReporter } from './progress.js';
import { discoveryOptions, sourceName, type SourceValues, type TorrentSource } from './sources.js';

export async function openSession(listen: string | undefined, sources: SourceValues = { 'no-dht': true }): Promise<Session> {
  const addr = listen ? parseHostPort(listen, { listen: true }) : { host: '0.0.0.0', port: 0 };
  return Session.create({ listen: addr, ...discoveryOptions(sources) });
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

/** Prints bans, hash failures and connection events as they happen. */
export function reportEvents(torrent: Torrent, reporter: ProgressReporter): void {
  torrent.on('peer-banned', (peer, reason) => reporter.event('peer-banned', `banned ${peer}: ${reason}`, { peer, reason }));
  torrent.on('hash-failed', (piece, peers) => reporter.event('hash-failed', `piece ${piece} failed its hash check (from ${peers.join(', ') || '?'})`, { piece, peers }));
  torrent.on('peer-connected', (peer) => reporter.event('peer-connected', `connected to ${peer}`, { peer }));
  torrent.on('peer-disconnected', (peer, reason) => reporter.event('peer-disconnected', `disconnected from ${peer}: ${reason}`, { peer, reason }, true));
  torrent.on('piece-lost', (piece) => reporter.event('piece-lost', `piece ${piece} changed on disk since it was verified; fetching it again`, { piece }));
}

/**
 * Resolves when every wanted piece is verified. Rejects on a fatal torrent error, or with
 * ENO_PEERS when no peer completed a handshake within `peerTimeoutSec`.
 */
export function waitForDone(torrent: Torrent, peerTimeoutSec: number): Promise<void> {
  if (torrent.isDone) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      if (torrent.hasConnectedPeer) return;
      const why = describeUnreachable(torrent.connectionReport());
      finish(new CtError('ENO_PEERS', `no peer reachable within ${peerTimeoutSec} s${why ? `: ${why}` : ''}`));
    }, peerTimeoutSec * 1000);
    const onDone = () => finish();
    const onError = (err: CtError) => finish(err);
    const finish = (err?: CtError) => {
      clearTimeout(timer);
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
  return `done: ${torrent.metainfo.name} ${formatBytes(s.totalBytes)} verified; downloaded ${formatBytes(s.downloaded)} in ${seconds.toFixed(1)} s ` +
    `(${formatRate(rate)}); hash failures ${s.hashFailures}, banned peers ${s.bannedPeers}`;
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
