/**
 * Fetching a peer's info dictionary over ut_metadata (BEP 9), through the ut_metadata package
 * (serving ours is metadata-server.ts). The package expects a bittorrent-protocol wire; it gets a
 * two-member adapter instead (`extendedHandshake`, `extended()`).
 *
 * Stricter than the package alone: every message passes our decoder (metadata-message.ts) and
 * reaches the package re-encoded, a metadata size over MAX_METADATA_SIZE is refused before
 * anything is requested, and the first assembled dictionary that does not hash to the infohash
 * fails this peer at once (the package would ask the same peer again and again).
 */
import { createHash } from 'node:crypto';
import type { UtMetadata, default as UtMetadataFactory } from 'ut_metadata';
import { CtError } from '../errors.js';
import { MAX_METADATA_SIZE, type PeerExtendedHandshake } from './extensions.js';
import { decodeMetadataMessage, encodeMetadataMessage } from './metadata-message.js';

export class MetadataError extends CtError {
  constructor(message: string) {
    super('EMETADATA', message);
  }
}

let loading: Promise<typeof UtMetadataFactory> | undefined;

/**
 * ut_metadata and its dependencies cost ~11 MiB of RSS at import; most sessions never serve or
 * fetch metadata, so the module loads on first use.
 */
function loadUtMetadata(): Promise<typeof UtMetadataFactory> {
  loading ??= import('ut_metadata').then((m) => m.default);
  return loading;
}

export class MetadataExchange {
  private readonly ext: UtMetadata;
  private settle: { resolve(info: Buffer): void; reject(err: Error): void } | undefined;
  /** The size the peer announced, once fetch() accepted it. */
  private metadataSize: number | undefined;

  /** `send` puts a ut_metadata payload on the wire under the peer's id; then call fetch(). */
  static async create(send: (payload: Buffer) => void, infoHash: Buffer): Promise<MetadataExchange> {
    return new MetadataExchange(await loadUtMetadata(), send, infoHash);
  }

  private constructor(utMetadata: typeof UtMetadataFactory, private readonly send: (payload: Buffer) => void, private readonly infoHash: Buffer) {
    const adapter = { extendedHandshake: {} as Record<string, unknown>, extended: (_name: string, payload: Buffer) => send(payload) };
    const Base = utMetadata(undefined);
    const fail = (message: string) => this.fail(message);
    class Strict extends Base {
      // Called by the package when the assembled dictionary does not hash to the infohash.
      _failedMetadata(): void {
        fail('peer sent metadata that does not match the infohash');
      }
    }
    this.ext = new Strict(adapter);
    this.ext.onHandshake(infoHash.toString('hex'), '', {});
    this.ext.on('warning', (err: Error) => this.fail(`peer cannot give metadata: ${err.message}`));
    this.ext.on('metadata', () => this.done());
  }

  /**
   * A ut_metadata message from the peer. Throws ProtocolError on a malformed one, or one for a
   * piece that does not exist; a request (we serve nothing here) is rejected.
   */
  onMessage(payload: Buffer): void {
    const msg = decodeMetadataMessage(payload, this.metadataSize);
    if (msg.type === 'request') {
      this.send(encodeMetadataMessage({ type: 'reject', piece: msg.piece }));
      return;
    }
    if (this.metadataSize === undefined) return; // nothing asked yet
    this.ext.onMessage(encodeMetadataMessage(msg));
  }

  /** Fetches the info dictionary from this peer: resolves with its exact bytes, verified. */
  fetch(peer: PeerExtendedHandshake): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
      if (!peer.ids.ut_metadata) return this.fail('peer does not offer ut_metadata');
      const size = peer.metadataSize;
      if (size === undefined || size <= 0) return this.fail('peer does not have the metadata');
      if (size > MAX_METADATA_SIZE) return this.fail(`peer claims ${size} bytes of metadata (limit ${MAX_METADATA_SIZE})`);
      this.metadataSize = size;
      this.ext.fetch();
      this.ext.onExtendedHandshake(peer.raw);
    });
  }

  private done(): void {
    const info = this.ext.metadata;
    if (!this.settle || !info) return;
    // The package checked the hash already; checking again costs nothing and guards its updates.
    if (!createHash('sha1').update(info).digest().equals(this.infoHash)) return this.fail('peer sent metadata that does not match the infohash');
    const s = this.settle;
    this.settle = undefined;
    s.resolve(Buffer.from(info));
  }

  private fail(message: string): void {
    const s = this.settle;
    this.settle = undefined;
    this.ext.cancel();
    s?.reject(new MetadataError(message));
  }
}
