/**
 * The session's DHT node (BEP 5, through bittorrent-dht): one UDP socket for every torrent. It
 * finds peers for an infohash (`get_peers`) and announces ours (`announce_peer`). The routing
 * table is saved to `<stateDir>/dht.json` on close and loaded on start, so a restart does not
 * depend on bootstrap nodes. Private torrents (BEP 27) are never looked up here: the torrent
 * side (torrent-discovery.ts) checks that before calling.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Client as DhtClient, DhtNodeAddress } from 'bittorrent-dht';
import { formatHostPort, parseHostPort } from '../util/address.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { StrictUdpSocket } from './strict-udp-socket.js';

/** The public bootstrap routers libtorrent also uses; tests pass their own. */
export const DEFAULT_DHT_BOOTSTRAP = ['router.bittorrent.com:6881', 'dht.transmissionbt.com:6881', 'router.utorrent.com:6881'];

export interface DhtOptions {
  /** `host:port` of nodes to start from; default DEFAULT_DHT_BOOTSTRAP. */
  bootstrap?: readonly string[];
  /** Where `dht.json` (the routing table) lives; nothing is saved without it. */
  stateDir?: string;
  /** UDP address to listen on; default 0.0.0.0, port 0 (any). */
  host?: string;
  port?: number;
}

export interface DhtEvents {
  /** A peer for an infohash (hex). */
  peer: [infoHashHex: string, address: string];
}

export class DhtService extends TypedEmitter<DhtEvents> {
  private dht: DhtClient | undefined;
  private socket: StrictUdpSocket | undefined;
  private closed = false;
  /** Settles once the node listens (or could not start); see create(). */
  private ready: Promise<void> = Promise.resolve();
  /** Lookups and announces asked for before the node listened, run once it does. */
  private waiting: (() => void)[] = [];

  private constructor(private readonly opts: DhtOptions) {
    super();
  }

  /**
   * A node that starts in the background: loading bittorrent-dht takes ~70 ms of the main
   * thread (~130 ms CPU), which a session given peers should not wait for before dialing them.
   * What is asked of it meanwhile runs once it listens.
   */
  static create(opts: DhtOptions): DhtService {
    // A bad bootstrap address is the caller's mistake: refused here, not lost in the background.
    for (const b of opts.bootstrap ?? DEFAULT_DHT_BOOTSTRAP) parseHostPort(b);
    const service = new DhtService(opts);
    service.ready = service.open().then(
      () => { for (const run of service.waiting.splice(0)) run(); },
      () => { service.waiting = []; }, // no DHT this run: the torrents still have their other sources
    );
    return service;
  }

  /** A node that listens when this resolves. */
  static async start(opts: DhtOptions): Promise<DhtService> {
    const service = DhtService.create(opts);
    await service.ready;
    return service;
  }

  /** Runs `fn` now if the node listens, else once it does. */
  private whenReady(fn: () => void): void {
    if (this.closed) return;
    if (this.dht) fn();
    else this.waiting.push(fn);
  }

  private get stateFile(): string | undefined {
    return this.opts.stateDir ? path.join(this.opts.stateDir, 'dht.json') : undefined;
  }

  private async open(): Promise<void> {
    const saved = await this.loadNodes();
    const bootstrap = [...(this.opts.bootstrap ?? DEFAULT_DHT_BOOTSTRAP)];
    // Loaded here, not at import: the module costs ~16 MiB of RSS, which a session without a DHT
    // (--no-dht, every benchmark) should not pay.
    const { default: DHT } = await import('bittorrent-dht');
    // Every datagram passes our strict decoder before bittorrent-dht's (strict-udp-socket.ts).
    this.socket = new StrictUdpSocket();
    const dht = new DHT({ bootstrap, socket: this.socket });
    this.dht = dht;
    dht.on('error', () => undefined); // a UDP hiccup is not fatal to downloads
    dht.on('warning', () => undefined);
    dht.on('peer', (peer: { host: string; port: number }, infoHash: Uint8Array) => {
      if (!peer || typeof peer.port !== 'number' || peer.port <= 0 || peer.port > 65535) return;
      this.emit('peer', Buffer.from(infoHash).toString('hex'), formatHostPort(peer));
    });
    // Listen first: adding a node pings it, and a send before listen() binds the socket elsewhere.
    await new Promise<void>((resolve) => dht.listen(this.opts.port ?? 0, this.opts.host ?? '0.0.0.0', () => resolve()));
    for (const n of saved) dht.addNode(n);
  }

  /** The UDP port the node answers on. */
  get port(): number {
    return this.dht?.address().port ?? 0;
  }

  /** Asks the DHT for peers of `infoHash`; they arrive as `peer` events. */
  lookup(infoHash: Buffer): void {
    this.whenReady(() => this.dht?.lookup(infoHash));
  }

  /** Tells the nodes closest to `infoHash` that we serve it on `port` (a lookup first, for tokens). */
  announce(infoHash: Buffer, port: number): void {
    this.whenReady(() => this.dht?.announce(infoHash, port, () => undefined));
  }

  /** Datagrams refused before bittorrent-dht saw them (malformed or oversized). */
  get droppedDatagrams(): number {
    return this.socket?.dropped ?? 0;
  }

  /** Nodes in the routing table (for status). */
  get nodeCount(): number {
    return this.dht?.toJSON().nodes.length ?? 0;
  }

  private async loadNodes(): Promise<DhtNodeAddress[]> {
    if (!this.stateFile) return [];
    try {
      const parsed: unknown = JSON.parse(await readFile(this.stateFile, 'utf8'));
      const nodes = (parsed as { nodes?: unknown }).nodes;
      if (!Array.isArray(nodes)) return [];
      return nodes.filter((n): n is DhtNodeAddress =>
        typeof n === 'object' && n !== null && typeof n.host === 'string' && Number.isInteger(n.port) && n.port > 0 && n.port < 65536)
        .map((n) => ({ host: n.host, port: n.port })).slice(0, 1000);
    } catch {
      return []; // missing or damaged: start from the bootstrap nodes
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.waiting = [];
    await this.ready;
    if (!this.dht) return;
    const dht = this.dht;
    const nodes = dht.toJSON().nodes.map((n) => ({ host: n.host, port: n.port }));
    if (this.stateFile && nodes.length) {
      try {
        await mkdir(path.dirname(this.stateFile), { recursive: true });
        const tmp = `${this.stateFile}.tmp`;
        await writeFile(tmp, JSON.stringify({ nodes }));
        await rename(tmp, this.stateFile);
      } catch {
        // an unwritable state dir costs the next start its warm table, nothing else
      }
    }
    await new Promise<void>((resolve) => dht.destroy(() => resolve()));
  }
}
