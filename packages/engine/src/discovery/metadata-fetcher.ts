/**
 * The first phase of a magnet link: get the info dictionary from peers (BEP 9) before anything
 * else can start. Peers come from the magnet's `x.pe`, its trackers and the DHT
 * (torrent-discovery.ts); a few are asked at once. A peer that lies (metadata that does not hash
 * to the infohash, an oversized or absent size, silence) is dropped and never asked again, and
 * the next peer is tried; the first verified dictionary wins and every connection is closed.
 */
import * as net from 'node:net';
import { ClosedError, CtError } from '../errors.js';
import { LOCAL_EXTENSION_IDS, encodeExtendedHandshake, parseExtendedHandshake } from '../peer/extensions.js';
import { MetadataExchange } from '../peer/metadata-exchange.js';
import { parseHostPort } from '../util/address.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { DEFAULT_WIRE_OPTIONS, PeerWire } from '../wire/peer-wire.js';

export interface MetadataFetcherOptions {
  infoHash: Buffer;
  peerId: Buffer;
  /** Peers asked at the same time. */
  parallel?: number;
  /** A peer that has not delivered the whole dictionary by then is dropped. */
  peerTimeoutMs?: number;
  /** Our listening port, for the extension handshake. */
  listenPort?: number;
}

export interface MetadataFetcherEvents {
  /** A peer was dropped, and why (for progress output and tests). */
  'peer-failed': [string, string];
}

export class MetadataFetcher extends TypedEmitter<MetadataFetcherEvents> {
  /** Addresses not tried yet, in arrival order. */
  private readonly queue: string[] = [];
  /** Every address ever queued. */
  private readonly seen = new Set<string>();
  /** Failed attempts per address; unreachable peers are retried with back-off a few times. */
  private readonly attempts = new Map<string, number>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
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

  /** Peers waiting or being asked. */
  get pending(): number {
    return this.queue.length + this.active.size;
  }

  addPeers(addresses: readonly string[]): void {
    for (const a of addresses) {
      if (this.seen.has(a)) continue;
      this.seen.add(a);
      this.queue.push(a);
    }
    this.fill();
  }

  private fill(): void {
    while (!this.finished && this.active.size < (this.opts.parallel ?? 4) && this.queue.length) this.ask(this.queue.shift() as string);
  }

  private ask(address: string): void {
    let host: string;
    let port: number;
    try {
      ({ host, port } = parseHostPort(address));
    } catch {
      return;
    }
    const socket = net.connect({ host, port });
    const wire = new PeerWire(socket, { ...DEFAULT_WIRE_OPTIONS, handshakeTimeoutMs: this.opts.peerTimeoutMs ?? 15_000 });
    this.active.set(address, wire);
    let reason = 'connection closed';
    const drop = (why: string) => {
      reason = why;
      wire.destroy();
    };
    const timer = setTimeout(() => drop('no metadata in time'), this.opts.peerTimeoutMs ?? 15_000);
    socket.setTimeout(10_000, () => drop('connect timed out'));
    socket.once('connect', () => {
      socket.setTimeout(0);
      wire.sendHandshake(this.opts.infoHash, this.opts.peerId, { fast: true, extended: true, dht: false });
    });
    let exchange: MetadataExchange | undefined;
    /** The peer answered our extension handshake: failing from here on is its fault. */
    let exchanged = false;
    wire.once('handshake', (hs) => {
      if (!hs.infoHash.equals(this.opts.infoHash)) return drop('peer answered for another torrent');
      if (hs.peerId.equals(this.opts.peerId)) return drop('that is ourselves');
      if (!hs.extended) return drop('peer does not speak the extension protocol');
      wire.extended(0, encodeExtendedHandshake({ pex: false, listenPort: this.opts.listenPort, clientVersion: 'ct 0.1.0', reqq: 250 }));
    });
    wire.on('message', (msg) => {
      if (msg.type !== 'extended') return;
      if (msg.id === 0 && !exchanged) {
        exchanged = true;
        const peerHs = parseExtendedHandshake(msg.payload);
        const id = peerHs?.ids.ut_metadata;
        if (!peerHs || !id) return drop('peer does not offer ut_metadata');
        // The peer sends ut_metadata messages only after our requests, which fetch() sends.
        void MetadataExchange.create((payload) => wire.extended(id, payload), this.opts.infoHash).then((ex) => {
          exchange = ex;
          return ex.fetch(peerHs);
        }).then((info) => this.succeed(info), (err: Error) => drop(err.message));
      } else if (msg.id === LOCAL_EXTENSION_IDS.ut_metadata) {
        exchange?.onMessage(msg.payload);
      }
    });
    wire.once('close', (err) => {
      clearTimeout(timer);
      this.active.delete(address);
      if (!this.finished) {
        const why = err && reason === 'connection closed' ? err.message : reason;
        this.emit('peer-failed', address, why);
        this.retryLater(address, exchanged);
        this.fill();
      }
    });
  }

  /**
   * A peer that could not be reached (or dropped us before the exchange began) is asked again
   * after 1, 2, 4, 8 s: a seeder started after us is common. One that answered the exchange
   * and failed it (lying size, wrong hash, silence) is never asked again.
   */
  private retryLater(address: string, exchanged: boolean): void {
    const n = (this.attempts.get(address) ?? 0) + 1;
    this.attempts.set(address, n);
    if (exchanged || n > 4) return;
    const t = setTimeout(() => {
      this.retryTimers.delete(t);
      if (this.finished) return;
      this.queue.push(address);
      this.fill();
    }, 1000 * 2 ** (n - 1));
    this.retryTimers.add(t);
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
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    for (const w of this.active.values()) w.destroy();
    this.active.clear();
    this.queue.length = 0;
  }
}
