/**
 * One peer's BEP 10 side: our extension handshake out, the peer's in (a later one replaces the
 * earlier, as BEP 10 allows), our info dictionary served over ut_metadata (BEP 9), and ut_pex
 * (BEP 11) both ways with a flood guard. Torrent-level meaning (which addresses to dial) is the
 * caller's.
 */
import { LOCAL_EXTENSION_IDS, encodeExtendedHandshake, parseExtendedHandshake, type OwnExtendedHandshake, type PeerExtendedHandshake } from './extensions.js';
import { MetadataServer } from './metadata-server.js';
import { PexView, decodePex, encodePex, type PexMessage } from './pex.js';
import type { PeerConnection } from '../wire/peer-connection.js';

/**
 * ut_pex messages closer together than this are ignored (BEP 11 asks for one a minute at most;
 * tests set the engine's pex interval lower, so the gap stays well below a second).
 */
export const PEX_MIN_GAP_MS = 500;

export class ExtensionChannel {
  /** The peer's extension handshake, once it arrived. */
  peer: PeerExtendedHandshake | undefined;
  /** What this peer has been told over ut_pex, so each message carries only changes. */
  readonly pexView = new PexView();
  /** Serves our info dictionary over ut_metadata; made on the first request. */
  private metadata: MetadataServer | undefined;
  /** When the peer last sent ut_pex: more often than PEX_MIN_GAP_MS is flooding, ignored. */
  private lastPexReceivedAt = 0;

  constructor(
    private readonly wire: PeerConnection,
    private readonly infoBytes: Buffer,
    private readonly onPex: (msg: PexMessage) => void,
  ) {}

  sendHandshake(own: OwnExtendedHandshake): void {
    this.wire.extended(0, encodeExtendedHandshake(own));
  }

  /**
   * An extended message under one of our ids. Returns the peer's handshake when this was one
   * (a broken handshake is ignored: not worth a disconnect). Throws ProtocolError on a malformed
   * ut_metadata message.
   */
  onMessage(id: number, payload: Buffer): PeerExtendedHandshake | undefined {
    if (id === 0) {
      const hs = parseExtendedHandshake(payload);
      if (hs) this.peer = hs;
      return hs;
    }
    if (id === LOCAL_EXTENSION_IDS.ut_metadata) this.onMetadata(payload);
    else if (id === LOCAL_EXTENSION_IDS.ut_pex) this.onPexMessage(payload);
    return undefined;
  }

  get acceptsPex(): boolean {
    return !!this.peer?.ids.ut_pex;
  }

  sendPex(msg: PexMessage): void {
    const id = this.peer?.ids.ut_pex;
    if (id && !this.wire.isClosed) this.wire.extended(id, encodePex(msg));
  }

  private onMetadata(payload: Buffer): void {
    const id = this.peer?.ids.ut_metadata;
    if (!id) return; // it never offered ut_metadata: nothing to answer
    this.metadata ??= new MetadataServer(this.infoBytes, (p) => { if (!this.wire.isClosed) this.wire.extended(id, p); });
    this.metadata.onMessage(payload);
  }

  private onPexMessage(payload: Buffer): void {
    const now = Date.now();
    if (now - this.lastPexReceivedAt < PEX_MIN_GAP_MS) return;
    this.lastPexReceivedAt = now;
    this.onPex(decodePex(payload));
  }
}
