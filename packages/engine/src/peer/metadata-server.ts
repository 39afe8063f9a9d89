/**
 * Serving our info dictionary over ut_metadata (BEP 9): a request for an existing piece gets that
 * 16 KiB slice, anything else a reject. Written here rather than through the ut_metadata package,
 * which answers a request for a piece past the end with an empty data message and reads the
 * request with its lenient parser (see metadata-message.ts). Pure: `send` puts bytes on the wire.
 */
import { ProtocolError } from '../errors.js';
import { METADATA_PIECE_LENGTH, decodeMetadataMessage, encodeMetadataMessage, metadataPieceCount } from './metadata-message.js';

export class MetadataServer {
  constructor(private readonly infoBytes: Buffer, private readonly send: (payload: Buffer) => void) {}

  /** A ut_metadata message from a peer that fetches from us. Throws ProtocolError on a malformed one. */
  onMessage(payload: Buffer): void {
    const msg = decodeMetadataMessage(payload, this.infoBytes.length);
    if (msg.type === 'data') throw new ProtocolError('ut_metadata data we did not ask for');
    if (msg.type === 'reject') return; // we never request from a peer we serve: nothing to do
    if (msg.piece >= metadataPieceCount(this.infoBytes.length)) {
      this.send(encodeMetadataMessage({ type: 'reject', piece: msg.piece }));
      return;
    }
    const start = msg.piece * METADATA_PIECE_LENGTH;
    const data = this.infoBytes.subarray(start, Math.min(this.infoBytes.length, start + METADATA_PIECE_LENGTH));
    this.send(encodeMetadataMessage({ type: 'data', piece: msg.piece, totalSize: this.infoBytes.length, data }));
  }
}
