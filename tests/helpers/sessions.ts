/**
 * In-process ct sessions on loopback, closed after the test: the fixture the engine-level
 * integration tests share instead of each building its own.
 */
import { Session, type Metainfo, type SessionOptions, type Torrent, type AddTorrentOptions } from '@ct/engine';

const open = new Set<Session>();

/** A session listening on 127.0.0.1 (a free port), closed by closeSessions(). */
export async function loopbackSession(opts: Partial<SessionOptions> = {}): Promise<Session> {
  const s = await Session.create({ listen: { host: '127.0.0.1', port: 0 }, ...opts });
  open.add(s);
  return s;
}

/** `host:port` others dial to reach `s`. */
export function addressOf(s: Session): string {
  const a = s.listenAddress;
  if (!a) throw new Error('the session does not listen');
  return `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

/** A session seeding `meta` from `dir` (read-only), and where to reach it. */
export async function seedingSession(meta: Metainfo, dir: string, opts: Partial<AddTorrentOptions> = {}): Promise<{ session: Session; torrent: Torrent; address: string }> {
  const session = await loopbackSession();
  const torrent = await session.addTorrent(meta, { downloadDir: dir, readOnly: true, ...opts });
  return { session, torrent, address: addressOf(session) };
}

/** Closes `s`, or every session these helpers opened. */
export async function closeSessions(...sessions: Session[]): Promise<void> {
  const which = sessions.length ? sessions : [...open];
  await Promise.all(which.map((s) => { open.delete(s); return s.close(); }));
}
