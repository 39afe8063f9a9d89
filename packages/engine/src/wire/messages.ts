/**
 * BitTorrent wire messages (BEP 3, BEP 6 fast extension, BEP 10 extension protocol): their ids,
 * the parsed forms the rest of the engine sees, and encoders for the ones we send.
 */

export const MessageId = {
  choke: 0,
  unchoke: 1,
  interested: 2,
  notInterested: 3,
  have: 4,
  bitfield: 5,
  request: 6,
  piece: 7,
  cancel: 8,
  port: 9,
  suggest: 13,
  haveAll: 14,
  haveNone: 15,
  reject: 16,
  allowedFast: 17,
  extended: 20,
} as const;

/** The unit of a request: every block is 16 KiB except a piece's last one (BEP 3). */
export const BLOCK_SIZE = 16 * 1024;

/** Blocks one piece may have: 2^17 x 16 KiB = 2 GiB, far above any real piece length. */
const MAX_BLOCKS_PER_PIECE = 131072;

/** One number per block of a torrent, the key every table of blocks uses. */
export type BlockId = number;
export const blockId = (index: number, begin: number): BlockId => index * MAX_BLOCKS_PER_PIECE + begin / BLOCK_SIZE;
/** The piece a block id belongs to. */
export const pieceOfBlock = (id: BlockId): number => Math.floor(id / MAX_BLOCKS_PER_PIECE);

export const PROTOCOL = 'BitTorrent protocol';
export const HANDSHAKE_LENGTH = 68;

export interface HandshakeInfo {
  infoHash: Buffer;
  peerId: Buffer;
  /** BEP 6 fast extension bit. */
  fast: boolean;
  /** BEP 10 extension protocol bit. */
  extended: boolean;
  /** BEP 5 DHT bit. */
  dht: boolean;
}

export interface BlockRef { index: number; begin: number; length: number }

/**
 * A parsed message. Buffers inside (`block`, `bytes`, `payload`) may be views of a shared read
 * buffer that is reused after the 'message' event returns: copy whatever you keep.
 */
export type WireMessage =
  | { type: 'keep-alive' }
  | { type: 'choke' }
  | { type: 'unchoke' }
  | { type: 'interested' }
  | { type: 'not-interested' }
  | { type: 'have'; index: number }
  | { type: 'bitfield'; bytes: Buffer }
  | ({ type: 'request' } & BlockRef)
  | { type: 'piece'; index: number; begin: number; block: Buffer }
  | ({ type: 'cancel' } & BlockRef)
  | { type: 'port'; port: number }
  | { type: 'suggest'; index: number }
  | { type: 'have-all' }
  | { type: 'have-none' }
  | ({ type: 'reject' } & BlockRef)
  | { type: 'allowed-fast'; index: number }
  | { type: 'extended'; id: number; payload: Buffer }
  | { type: 'unknown'; id: number };

export function encodeHandshake(infoHash: Buffer, peerId: Buffer, opts: { fast: boolean; extended: boolean; dht: boolean }): Buffer {
  const buf = Buffer.alloc(HANDSHAKE_LENGTH);
  buf[0] = PROTOCOL.length;
  buf.write(PROTOCOL, 1, 'latin1');
  if (opts.extended) buf[20 + 5] |= 0x10;
  if (opts.fast) buf[20 + 7] |= 0x04;
  if (opts.dht) buf[20 + 7] |= 0x01;
  infoHash.copy(buf, 28);
  peerId.copy(buf, 48);
  return buf;
}

/** A message with only an id (choke, unchoke, interested, ...). */
export function encodeSimple(id: number): Buffer {
  const buf = Buffer.allocUnsafe(5);
  buf.writeUInt32BE(1, 0);
  buf[4] = id;
  return buf;
}

/** have, suggest, allowed-fast: id + one 32-bit index. */
export function encodeIndex(id: number, index: number): Buffer {
  const buf = Buffer.allocUnsafe(9);
  buf.writeUInt32BE(5, 0);
  buf[4] = id;
  buf.writeUInt32BE(index, 5);
  return buf;
}

/** request, cancel, reject: id + index, begin, length. */
export function encodeBlockRef(id: number, ref: BlockRef): Buffer {
  const buf = Buffer.allocUnsafe(17);
  buf.writeUInt32BE(13, 0);
  buf[4] = id;
  buf.writeUInt32BE(ref.index, 5);
  buf.writeUInt32BE(ref.begin, 9);
  buf.writeUInt32BE(ref.length, 13);
  return buf;
}

/** The 13-byte header of a piece message; the block itself is written after it without copying. */
export function encodePieceHeader(index: number, begin: number, blockLength: number): Buffer {
  const buf = Buffer.allocUnsafe(13);
  buf.writeUInt32BE(9 + blockLength, 0);
  buf[4] = MessageId.piece;
  buf.writeUInt32BE(index, 5);
  buf.writeUInt32BE(begin, 9);
  return buf;
}

export function encodeWithPayload(id: number, payload: Uint8Array, extendedId?: number): Buffer {
  const head = extendedId === undefined ? 5 : 6;
  const buf = Buffer.allocUnsafe(head + payload.length);
  buf.writeUInt32BE(head - 4 + payload.length, 0);
  buf[4] = id;
  if (extendedId !== undefined) buf[5] = extendedId;
  buf.set(payload, head);
  return buf;
}

export const KEEP_ALIVE = Buffer.alloc(4);
