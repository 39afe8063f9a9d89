/**
 * The peers of one torrent: who may connect (bans, the per-torrent and per-address caps, evicting
 * a useless peer at a full cap, the twin rule when one peer is reached twice), the peer list and
 * its dialing, what PEX tells peers, and who we upload to (the choker). The torrent creates the
 * PeerSession for an admitted connection and tells this set; the protocol is PeerSession's.
 */
import { CtError } from '../errors.js';
import { PeerDialer, type PeerSource } from '../discovery/peer-dialer.js';
import type { DialOutcome } from '../peer/dial.js';
import { decideUnchokes } from '../peer/choker.js';
import type { PeerSession } from '../peer/peer-session.js';
import { parseHostPort } from '../util/address.js';
import { isBlameless } from '../wire/peer-wire.js';
import { DialReport, type ConnectionReport } from './dial-report.js';
import { pickEvictee } from './peer-eviction.js';

export interface PeerSetOptions {
  /** Connections to this torrent. */
  maxPeers: number;
  /** Connections to this torrent from one IP address (libtorrent allows one unless told otherwise). */
  maxPeersPerAddress: number;
  /** Peers we upload to at once (one of them the optimistic unchoke). */
  uploadSlots: number;
  /** How often peers hear our ut_pex view (BEP 11 asks for at most once a minute). */
  pexIntervalMs: number;
  /** A private torrent (BEP 27) exchanges no peers. */
  private: boolean;
  /** Our peer id (decides which of two connections to one peer stays). */
  peerId?: Buffer;
}

export const DEFAULT_PEER_SET_OPTIONS: Omit<PeerSetOptions, 'private'> = { maxPeers: 50, maxPeersPerAddress: 8, uploadSlots: 8, pexIntervalMs: 60_000 };

/** After one of its peers was evicted as useless, an address may take only free slots for this long. */
const EVICTION_COOLDOWN_MS = 30_000;
/** Rechokes between optimistic unchoke rotations (every 30 s at one rechoke per 10 s). */
const OPTIMISTIC_EVERY_RECHOKES = 3;

export class PeerSet {
  private readonly peers = new Map<string, PeerSession>();
  private readonly banned = new Set<string>();
  readonly dialer = new PeerDialer();
  private readonly dialReport = new DialReport();
  /** Hosts whose peer was evicted as useless, until when they may take only a free slot. */
  private readonly evictedHosts = new Map<string, number>();
  /** Our own addresses as others list them, learnt from dialing ourselves. */
  private readonly ownAddresses = new Set<string>();
  private lastPexAt = 0;
  private optimistic: string | undefined;
  private rechokes = 0;
  /** True once any peer completed a handshake with us. */
  everConnected = false;

  constructor(private readonly opts: PeerSetOptions) {}

  get size(): number { return this.peers.size; }
  values(): IterableIterator<PeerSession> { return this.peers.values(); }
  get(key: string): PeerSession | undefined { return this.peers.get(key); }
  isBanned(key: string): boolean { return this.banned.has(key); }
  get bannedCount(): number { return this.banned.size; }

  /** New addresses for the peer list; returns those that were new. Only user-given ones are retried forever. */
  addAddresses(addresses: readonly string[], source: PeerSource, now: number): string[] {
    const added: string[] = [];
    for (const a of addresses) {
      if (this.banned.has(a) || this.ownAddresses.has(a)) continue;
      if (this.dialer.add(a, source === 'user', now, source)) added.push(a);
    }
    return added;
  }

  /** Addresses that turned out to be ourselves (a tracker lists us too): never dialed again. */
  forgetOwnAddress(address: string): void {
    this.ownAddresses.add(address);
    this.dialer.remove(address);
  }

  /**
   * May a connection from `key` (peer id `peerId`) join? Closes a twin that loses the tie or a
   * useless peer to make room. On a refusal, an outgoing address is scheduled (or forgotten).
   */
  admit(key: string, peerId: Buffer, outgoing: boolean): boolean {
    const twin = [...this.peers.values()].find((p) => p.peerId.equals(peerId));
    if (this.banned.has(key) || this.peers.has(key) || (twin === undefined && !this.makeRoom(key)) ||
        (twin !== undefined && !this.newBeatsTwin(twin, peerId, outgoing))) {
      // A twin connection to the same peer stays; this address need not be dialed again.
      if (outgoing && twin) this.dialer.remove(key);
      else if (outgoing) this.dialer.disconnected(key, Date.now(), false);
      return false;
    }
    twin?.close(new CtError('ECLOSED', 'a second connection to the same peer won the tie')); // its close does its bookkeeping
    return true;
  }

  /** An admitted connection became a PeerSession. */
  added(peer: PeerSession): void {
    this.peers.set(peer.key, peer);
    this.everConnected = true;
    if (peer.outgoing) {
      this.dialer.connected(peer.key);
      this.dialReport.connected(peer.key);
    }
  }

  /** A peer's connection ended; false when it was not (or no longer) ours. */
  removed(peer: PeerSession, reason: Error): boolean {
    if (this.peers.get(peer.key) !== peer) return false;
    this.peers.delete(peer.key);
    if (peer.outgoing) this.dialer.disconnected(peer.key, Date.now(), !isBlameless(reason));
    return true;
  }

  /** An outgoing attempt failed before the handshake completed; `outcome` says how far it got. */
  dialFailed(address: string, outcome: DialOutcome): void {
    this.dialReport.failed(address, outcome);
    this.dialer.disconnected(address, Date.now(), true);
  }

  connectionReport(): ConnectionReport {
    return this.dialReport.report();
  }

  /** Addresses to dial now: all due ones while downloading, only user-given ones while seeding. */
  due(now: number, seeding: boolean): string[] {
    return this.dialer.due(now, Math.max(0, this.opts.maxPeers - this.peers.size), seeding);
  }

  /** Refuses `key` from now on (by address and port); false if it already was. */
  ban(key: string, reason: string): boolean {
    if (this.banned.has(key)) return false;
    this.banned.add(key);
    this.dialer.remove(key);
    this.peers.get(key)?.close(new CtError('EPEER_BANNED', `banned: ${reason}`));
    return true;
  }

  /** Two seeds have nothing to say to each other: close, and do not dial it again. */
  dropSeed(peer: PeerSession): void {
    this.dialer.remove(peer.key);
    peer.close(new CtError('ECLOSED', 'both sides are seeds'));
  }

  /** Tells every ut_pex peer what changed in our peer set since it last heard (BEP 11). */
  sendPex(now: number): void {
    if (this.opts.private || now - this.lastPexAt < this.opts.pexIntervalMs) return;
    this.lastPexAt = now;
    const view: string[] = [];
    for (const p of this.peers.values()) {
      const a = p.listenAddress;
      if (a) view.push(a);
    }
    for (const p of this.peers.values()) {
      if (!p.acceptsPex) continue;
      const msg = p.pexView.next(view, p.listenAddress ?? p.key);
      if (msg) p.sendPex(msg);
    }
  }

  /** A peer's interest changed: unchoke it at once if a slot is free, choke it if it lost interest. */
  interestChanged(peer: PeerSession): void {
    if (peer.peerInterested && peer.amChoking && this.unchokedCount() < this.opts.uploadSlots) peer.unchoke();
    else if (!peer.peerInterested && !peer.amChoking) peer.choke();
  }

  /** Every 10 s: tit-for-tat (leeching) or least-served-first (seeding), one optimistic slot. */
  rechoke(now: number, seeding: boolean): void {
    const rotate = this.rechokes++ % OPTIMISTIC_EVERY_RECHOKES === 0;
    const candidates = [...this.peers.values()].map((p) => ({
      key: p.key,
      interested: p.peerInterested,
      downloadRate: p.downloadRate.rate(now),
      uploadedTotal: p.uploadRate.total,
      lastOptimistic: p.lastOptimistic,
    }));
    const decision = decideUnchokes(candidates, { slots: this.opts.uploadSlots, seeding, rotateOptimistic: rotate, currentOptimistic: this.optimistic });
    if (decision.optimistic !== this.optimistic && decision.optimistic) {
      const p = this.peers.get(decision.optimistic);
      if (p) p.lastOptimistic = now;
    }
    this.optimistic = decision.optimistic;
    for (const p of this.peers.values()) {
      if (decision.unchoke.has(p.key)) p.unchoke();
      else p.choke();
    }
  }

  closeAll(reason: Error): void {
    for (const p of [...this.peers.values()]) p.close(reason);
    this.peers.clear();
  }

  private unchokedCount(): number {
    let n = 0;
    for (const p of this.peers.values()) if (!p.amChoking) n++;
    return n;
  }

  /**
   * True when `key` may take a slot: within the per-address bound, and the cap not reached or
   * reached with a useless peer to evict. An address whose peer was evicted lately may take only
   * a free slot: otherwise reconnecting junk peers would evict each other in a cycle that keeps
   * every slot too young to evict, and a real peer would still find no room.
   */
  private makeRoom(key: string): boolean {
    const now = Date.now();
    const host = parseHostPort(key).host;
    let fromHost = 0;
    for (const p of this.peers.values()) if (p.ip === host) fromHost++;
    if (fromHost >= this.opts.maxPeersPerAddress) return false;
    if (this.peers.size < this.opts.maxPeers) return true;
    if ((this.evictedHosts.get(host) ?? 0) > now) return false;
    const victim = pickEvictee([...this.peers.values()].map((p) => ({
      key: p.key,
      connectedAt: p.connectedAt,
      lastMessageAt: p.wire.lastMessageAt,
      downloaded: p.downloadRate.total,
      uploaded: p.uploadRate.total,
      peerInterested: p.peerInterested,
      amInterested: p.amInterested,
    })), now);
    if (victim === undefined) return false;
    const victimPeer = this.peers.get(victim);
    if (this.evictedHosts.size >= 1000) for (const [h, until] of this.evictedHosts) if (until <= now) this.evictedHosts.delete(h);
    if (victimPeer && this.evictedHosts.size < 1000) this.evictedHosts.set(victimPeer.ip, now + EVICTION_COOLDOWN_MS);
    victimPeer?.close(new CtError('EPEER_EVICTED', 'evicted to make room: no data exchanged, not interested'));
    return this.peers.size < this.opts.maxPeers;
  }

  /**
   * One peer reached twice (we dialed it while it dialed us, typically after PEX told each about
   * the other): both ends must keep the same connection, or each drops the one the other kept.
   * The rule both compute alike: keep the connection opened by the side with the lower peer id.
   */
  private newBeatsTwin(twin: PeerSession, peerId: Buffer, outgoing: boolean): boolean {
    const own = this.opts.peerId;
    if (!own || twin.outgoing === outgoing) return false;
    const weWin = Buffer.compare(own, peerId) < 0;
    return outgoing === weWin;
  }
}
