/**
 * The ut_metadata (BEP 9) message codec, strict. A message is a bencoded dictionary, followed for
 * `data` messages by the raw piece. Peers' bytes reach the ut_metadata package only after this
 * decoder accepted them, re-encoded in canonical form: the package's own parser loops forever on
 * `d-4294967295:ee` and throws a RangeError on a negative piece (measured, issue 10). Pure.
 */
import { ProtocolError } from '../errors.js';
import { checkBencodePrefix, decodeStrict, encode, type BencodeValue } from '../metainfo/bencode.js';

/** Metadata is exchanged in pieces of 16 KiB; the last one may be shorter. */
export const METADATA_PIECE_LENGTH = 16 * 1024;

export type MetadataMessage =
  | { type: 'request'; piece: number }
  | { type: 'data'; piece: number; totalSize: number; data: Buffer }
  | { type: 'reject'; piece: number };

const TYPES = ['request', 'data', 'reject'] as const;

export const metadataPieceCount = (size: number) => Math.ceil(size / METADATA_PIECE_LENGTH);

/** Length of piece `piece` of metadata of `size` bytes. */
export const metadataPieceLength = (size: number, piece: number) =>
  Math.min(METADATA_PIECE_LENGTH, size - piece * METADATA_PIECE_LENGTH);

const isDict = (v: BencodeValue): v is Record<string, BencodeValue> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

/**
 * Decodes one message. `metadataSize` is the size of the metadata this exchange is about (ours
 * when serving, the peer's claim when fetching; undefined when neither is known): pieces beyond
 * it are refused here, and a data message must carry exactly its piece. Throws ProtocolError.
 */
export function decodeMetadataMessage(payload: Buffer, metadataSize: number | undefined): MetadataMessage {
  let end: number;
  let dict: BencodeValue;
  try {
    end = checkBencodePrefix(payload);
    dict = decodeStrict(payload.subarray(0, end));
  } catch (err) {
    throw new ProtocolError(`malformed ut_metadata message: ${(err as Error).message}`);
  }
  if (!isDict(dict)) throw new ProtocolError('ut_metadata message is not a dictionary');
  const msgType = dict.msg_type;
  const piece = dict.piece;
  if (typeof msgType !== 'number' || !Number.isInteger(msgType) || msgType < 0 || msgType > 2) {
    throw new ProtocolError(`ut_metadata message of unknown type ${String(msgType)}`);
  }
  if (typeof piece !== 'number' || !Number.isInteger(piece) || piece < 0) throw new ProtocolError(`ut_metadata message for piece ${String(piece)}`);
  const pieces = metadataSize === undefined ? undefined : metadataPieceCount(metadataSize);
  const type = TYPES[msgType];
  const trailer = payload.subarray(end);
  if (type !== 'data') {
    if (trailer.length > 0) throw new ProtocolError(`ut_metadata ${type} with ${trailer.length} trailing bytes`);
    // A request for a piece that does not exist is answered with a reject, not an error.
    if (type === 'reject' && pieces !== undefined && piece >= pieces) throw new ProtocolError(`ut_metadata reject for piece ${piece} of ${pieces}`);
    return { type, piece };
  }
  const totalSize = dict.total_size;
  if (metadataSize === undefined) throw new ProtocolError('ut_metadata data we did not ask for');
  if (totalSize !== metadataSize) throw new ProtocolError(`ut_metadata total_size ${String(totalSize)}, announced ${metadataSize}`);
  if (pieces !== undefined && piece >= pieces) throw new ProtocolError(`ut_metadata data for piece ${piece} of ${pieces}`);
  const expected = metadataPieceLength(metadataSize, piece);
  if (trailer.length !== expected) throw new ProtocolError(`ut_metadata piece ${piece} of ${trailer.length} bytes, expected ${expected}`);
  return { type, piece, totalSize, data: trailer };
}

/** The canonical bytes of a message (what we send, and what the package is handed). */
export function encodeMetadataMessage(msg: MetadataMessage): Buffer {
  const msgType = TYPES.indexOf(msg.type);
  if (msg.type !== 'data') return encode({ msg_type: msgType, piece: msg.piece });
  return Buffer.concat([encode({ msg_type: msgType, piece: msg.piece, total_size: msg.totalSize }), msg.data]);
}
