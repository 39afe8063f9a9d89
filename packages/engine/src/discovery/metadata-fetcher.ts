/**
 * The first phase of a magnet link: get the info dictionary from peers (BEP 9) before anything
 * else can start. Peers come from the magnet's `x.pe`, its trackers and the DHT
 * (torrent-discovery.ts); a few are asked at once. A peer that lies (metadata that does not hash
 * to the infohash, an oversized or absent size, silence) is dropped and never asked again, and
 * the next peer is tried; the first verified dictionary wins and every connection is closed.
 */
import { ClosedError, CtError } from '../errors.js';
import type { DialHandlers } from '../peer/dial.js';
import { ADVERTISED_REQQ, CLIENT_VERSION, LOCAL_EXTENSION_IDS, encodeExtendedHandshake, parseExtendedHandshake } from '../peer/extensions.js';
import { MetadataExchange } from '../peer/metadata-exchange.js';
import { PeerDialer } from './peer-dialer.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import type { PeerWire } from '../wire/peer-wire.js';

export interface MetadataFetcherOptions {
  infoHash: Buffer;
  /** Opens a connection through the session (its connection cap, its read buffer); undefined: no slot. */
  connect(address: string, handlers: DialHandlers): PeerWire | undefined;
  /** Peers asked at the same time. */
  parallel?: number;
  /** A peer that has not delivered the whole dictionary by then is dropped. */
  peerTimeoutMs?: number;
  /** Our listening port, for the extension handshake. */
  listenPort?: number;
}

/** Four peers asked at once, each given 15 s for the whole dictionary. */
export const DEFAULT_METADATA_FETCH = { parallel: 4, peerTimeoutMs: 15_000 } as const;

export interface MetadataFetcherEvents {
  /** A peer was dropped, and why (for progress output and tests). */
  'peer-failed': [string, string];
}

export class MetadataFetcher extends TypedEmitter<MetadataFetcherEvents> {
  /**
   * The addresses to ask, with the same back-off and failure limit as a torrent's peer list: an
   * unreachable peer is asked again (a seeder started after us is common); one that answered
   * the exchange and failed it (lying size, wrong hash, silence) is removed for good.
   */
  private readonly dialer = new PeerDialer({ baseDelayMs: 1000, maxDelayMs: 8000, maxFailures: 5, maxCandidates: 1000 });
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly active = new Map<string, PeerWire>();
  private result: { resolve(info: Buffer): void; reject(err: Error): void } | undefined;
  private readonly done: Promise<Buffer>;
  private finished = false;

  constructor(private readonly opts: MetadataFetcherOptions) {
    super();
    this.done = new Promise((resolve, reject) => { this.result = { resolve, reject }; });
    this.done.catch(() => undefined);
  }

  /** The verified info dictionary, exactly as the peers sent it. */
  get metadata(): Promise<Buffer> {
    return this.done;
  }

  /** Peers being asked. */
  get pending(): number {
    return this.active.size;
  }

  addPeers(addresses: readonly string[]): void {
    const now = Date.now();
    for (const a of addresses) this.dialer.add(a, false, now, 'magnet');
    this.fill();
  }

  private fill(): void {
    if (this.finished) return;
    const room = (this.opts.parallel ?? DEFAULT_METADATA_FETCH.parallel) - this.active.size;
    for (const address of this.dialer.due(Date.now(), room)) this.ask(address);
    const next = this.dialer.nextAttemptAt();
    clearTimeout(this.retryTimer);
    if (next !== undefined && !this.finished) {
      this.retryTimer = setTimeout(() => this.fill(), Math.max(0, next - Date.now()));
      this.retryTimer.unref();
    }
  }

  private ask(address: string): void {
    let reason = 'connection closed';
    /** The peer answered our extension handshake: failing from here on is its fault. */
    let exchanged = false;
    let exchange: MetadataExchange | undefined;
    let notExtended = false;
    let wire: PeerWire | undefined;
    const drop = (why: string) => {
      reason = why;
      wire?.destroy(new CtError('EMETADATA', why));
    };
    const timer = setTimeout(() => drop('no metadata in time'), this.opts.peerTimeoutMs ?? DEFAULT_METADATA_FETCH.peerTimeoutMs);
    const ended = (why: string) => {
      clearTimeout(timer);
      this.active.delete(address);
      if (this.finished) return;
      this.emit('peer-failed', address, why);
      if (exchanged) this.dialer.remove(address);
      else this.dialer.disconnected(address, Date.now(), true);
      this.fill();
    };
    wire = this.opts.connect(address, {
      onHandshake: (w, hs) => {
        if (!hs.extended) {
          notExtended = true;
          return false;
        }
        w.extended(0, encodeExtendedHandshake({ pex: false, listenPort: this.opts.listenPort, clientVersion: CLIENT_VERSION, reqq: ADVERTISED_REQQ }));
        w.on('message', (msg) => {
          if (msg.type !== 'extended') return;
          if (msg.id === 0 && !exchanged) {
            exchanged = true;
            const peerHs = parseExtendedHandshake(msg.payload);
            const id = peerHs?.ids.ut_metadata;
            if (!peerHs || !id) return drop('peer does not offer ut_metadata');
            // The peer sends ut_metadata messages only after our requests, which fetch() sends.
            void MetadataExchange.create((payload) => w.extended(id, payload), this.opts.infoHash).then((ex) => {
              exchange = ex;
              return ex.fetch(peerHs);
            }).then((info) => this.succeed(info), (err: Error) => drop(err.message));
          } else if (msg.id === LOCAL_EXTENSION_IDS.ut_metadata) {
            exchange?.onMessage(msg.payload);
          }
        });
        w.once('close', (err) => ended(err && reason === 'connection closed' ? err.message : reason));
        return true;
      },
      onFailed: (_outcome, err) => ended(notExtended ? 'peer does not speak the extension protocol' : err.message),
    });
    if (!wire) {
      // No connection slot now: try again shortly, without counting it against the peer.
      clearTimeout(timer);
      this.dialer.disconnected(address, Date.now(), false);
      this.fill();
      return;
    }
    this.active.set(address, wire);
  }

  private succeed(info: Buffer): void {
    if (this.finished) return;
    this.finished = true;
    this.result?.resolve(info);
    this.closeAll();
  }

  /** Gives up: the pending `metadata` promise rejects with `err` (ClosedError by default). */
  close(err: CtError = new ClosedError('metadata fetch cancelled')): void {
    if (this.finished) return;
    this.finished = true;
    this.result?.reject(err);
    this.closeAll();
  }

  private closeAll(): void {
    clearTimeout(this.retryTimer);
    for (const w of this.active.values()) w.destroy(new ClosedError('metadata fetch over'));
    this.active.clear();
  }
}
