/**
 * @ct/engine public API. Start with `Session.create()`, parse a .torrent with `parseMetainfo`,
 * then `session.addTorrent(meta, { downloadDir, peers })`.
 */
export * from './errors.js';
export { parseMetainfo, pieceHash, pieceSize, type Metainfo, type TorrentFileEntry } from './metainfo/metainfo.js';
export { createTorrent, type CreateTorrentOptions } from './metainfo/create.js';
export { checkBencode, decodeStrict, encode as bencodeEncode } from './metainfo/bencode.js';
export { sanitizeComponent, sanitizePath, dedupePaths, freeName } from './metainfo/sanitize.js';
export { FileLayout, type Segment, type LayoutFile } from './layout/file-layout.js';
export { PiecePicker, DEFAULT_PRIORITY, type BlockRequest, type PickerPeer } from './picker/piece-picker.js';
export { BLOCK_SIZE } from './wire/messages.js';
export { Bitfield } from './util/bitfield.js';
export { parseHostPort, formatHostPort, type HostPort } from './util/address.js';
export { Session, buildTorrentFile, type SessionOptions, type AddTorrentOptions, type AddMagnetOptions, type SessionEvents } from './session/session.js';
export { parseMagnet, isMagnet, type Magnet } from './discovery/magnet.js';
export { DhtService, DEFAULT_DHT_BOOTSTRAP, type DhtOptions } from './discovery/dht.js';
export type { DiscoveryStatus } from './discovery/torrent-discovery.js';
export type { TrackerStatus } from './discovery/tracker-announcer.js';
export { encodePex, decodePex, PexView, type PexMessage } from './peer/pex.js';
export { MetadataError } from './peer/metadata-exchange.js';
export type { PeerSource } from './discovery/peer-dialer.js';
export { describeUnreachable, type ConnectionReport } from './torrent/dial-report.js';
export { PEER_ID_PREFIX } from './session/session.js';
export { Torrent, type TorrentStats, type TorrentEvents, type TorrentState, type PeerInfo, type TorrentOptions } from './torrent/torrent.js';
export { HasherPool, sharedHasherPool } from './hash/hasher-pool.js';
export { FrameParser } from './wire/frame-parser.js';
export type { WireMessage, HandshakeInfo, BlockRef } from './wire/messages.js';
export { FileReader, type ReadOptions } from './stream/file-reader.js';
export { TorrentFile } from './stream/torrent-file.js';
export type { FileReadStreamOptions } from './stream/file-read-stream.js';
export { ReadaheadWindow, DEFAULT_READAHEAD, type ReadaheadOptions } from './stream/readahead.js';
export { TorrentHttpServer, parseRange, contentType, fileUrlPath } from './http/http-server.js';
