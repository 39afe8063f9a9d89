/**
 * The process-wide part of the engine: one listening socket shared by every torrent, our peer
 * id, outgoing dials, and routing of incoming handshakes to the torrent they name. Torrents do the
 * rest. An embedding program creates one Session and adds torrents to it.
 */
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { CtError, UsageError } from '../errors.js';
import type { Metainfo } from '../metainfo/metainfo.js';
import { sharedHasherPool, type HasherPool } from '../storage/hasher-pool.js';
import { Torrent, type TorrentOptions } from '../torrent/torrent.js';
import { formatHostPort, parseHostPort } from '../util/address.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { DEFAULT_WIRE_OPTIONS, PeerWire, connectWithSharedReads, type PeerWireOptions } from '../wire/peer-wire.js';

export interface SessionOptions {
  /** Where to accept peers; `false` for no listening socket. Default 0.0.0.0:0 (any free port). */
  listen?: { host: string; port: number } | false;
  /** 20 bytes; generated (`-CT0100-` + random) when omitted. */
  peerId?: Buffer;
  /** Connections across all torrents. */
  maxConnections?: number;
  /** Outgoing TCP connect timeout. */
  connectTimeoutMs?: number;
  hasher?: HasherPool;
  wire?: Partial<PeerWireOptions>;
}

export interface AddTorrentOptions extends Partial<Omit<TorrentOptions, 'hasher'>> {
  downloadDir: string;
  /** Peers to connect to (`host:port`), retried with back-off while the torrent runs. */
  peers?: readonly string[];
}

export interface SessionEvents {
  torrent: [Torrent];
  /** Non-fatal trouble worth logging (a refused incoming connection, ...). */
  warning: [string];
}

export class Session extends TypedEmitter<SessionEvents> {
  readonly peerId: Buffer;
  private readonly torrents = new Map<string, Torrent>();
  private server: net.Server | undefined;
  private readonly hasher: HasherPool;
  private readonly wireOptions: PeerWireOptions;
  private connections = 0;
  private closed = false;

  private constructor(private readonly opts: SessionOptions) {
    super();
    this.peerId = opts.peerId ?? Buffer.concat([Buffer.from('-CT0100-'), randomBytes(12)]);
    if (this.peerId.length !== 20) throw new UsageError('peer id must be 20 bytes');
    this.hasher = opts.hasher ?? sharedHasherPool();
    this.wireOptions = { ...DEFAULT_WIRE_OPTIONS, ...opts.wire };
  }

  /** Creates a session and, unless `listen: false`, starts listening. */
  static async create(opts: SessionOptions = {}): Promise<Session> {
    const session = new Session(opts);
    if (opts.listen !== false) await session.listen(opts.listen ?? { host: '0.0.0.0', port: 0 });
    return session;
  }

  private listen(addr: { host: string; port: number }): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => this.onIncoming(socket));
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new CtError('EADDRESS', `cannot listen on ${formatHostPort(addr)}: ${err.code === 'EADDRINUSE' ? 'address in use' : err.message}`)));
      server.listen(addr.port, addr.host, () => {
        this.server = server;
        resolve();
      });
    });
  }

  /** The address we accept peers on, if listening. */
  get listenAddress(): { host: string; port: number } | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? { host: a.address, port: a.port } : undefined;
  }

  async addTorrent(meta: Metainfo, opts: AddTorrentOptions): Promise<Torrent> {
    if (this.closed) throw new UsageError('session is closed');
    if (this.torrents.has(meta.infoHashHex)) throw new UsageError(`torrent ${meta.infoHashHex} is already added`);
    for (const p of opts.peers ?? []) parseHostPort(p);
    const torrent = new Torrent(meta, { ...opts, hasher: this.hasher }, (address, t) => this.dial(address, t));
    this.torrents.set(meta.infoHashHex, torrent);
    this.emit('torrent', torrent);
    torrent.addPeers(opts.peers ?? []);
    await torrent.start();
    return torrent;
  }

  getTorrent(infoHashHex: string): Torrent | undefined {
    return this.torrents.get(infoHashHex);
  }

  get torrentList(): Torrent[] {
    return [...this.torrents.values()];
  }

  async removeTorrent(infoHashHex: string): Promise<void> {
    const t = this.torrents.get(infoHashHex);
    this.torrents.delete(infoHashHex);
    await t?.close();
  }

  private dial(address: string, torrent: Torrent): void {
    if (this.closed || this.connections >= (this.opts.maxConnections ?? 200)) {
      torrent.dialFailed(address);
      return;
    }
    const { host, port } = parseHostPort(address);
    const socket = connectWithSharedReads(host, port);
    this.track(socket);
    socket.setTimeout(this.opts.connectTimeoutMs ?? 10_000, () => socket.destroy(new Error('connect timeout')));
    const wire = new PeerWire(socket, this.wireOptions);
    let attached = false;
    socket.once('connect', () => {
      socket.setTimeout(0);
      wire.sendHandshake(torrent.infoHash, this.peerId, { fast: true, extended: true, dht: false });
    });
    wire.once('handshake', (hs) => {
      if (!hs.infoHash.equals(torrent.infoHash) || hs.peerId.equals(this.peerId)) {
        wire.destroy(new CtError('EPROTOCOL', 'peer answered with another torrent or is ourselves'));
        return;
      }
      attached = torrent.attach(wire, hs, address, true);
      if (!attached) wire.destroy();
    });
    wire.once('close', () => {
      if (!attached) torrent.dialFailed(address);
    });
  }

  private onIncoming(socket: net.Socket): void {
    if (this.closed || this.connections >= (this.opts.maxConnections ?? 200)) {
      socket.destroy();
      return;
    }
    this.track(socket);
    const wire = new PeerWire(socket, this.wireOptions);
    const key = formatHostPort({ host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 });
    wire.once('handshake', (hs) => {
      const torrent = this.torrents.get(hs.infoHash.toString('hex'));
      if (!torrent || hs.peerId.equals(this.peerId)) {
        wire.destroy();
        return;
      }
      wire.sendHandshake(torrent.infoHash, this.peerId, { fast: true, extended: true, dht: false });
      if (!torrent.attach(wire, hs, key, false)) wire.destroy();
    });
  }

  private track(socket: net.Socket): void {
    this.connections++;
    socket.once('close', () => { this.connections--; });
    socket.on('error', () => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.torrents.values()].map((t) => t.close()));
    this.torrents.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
