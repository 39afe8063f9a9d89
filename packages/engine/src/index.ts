/**
 * @ct/engine public API (docs/api/README.md lists it; a test keeps the two equal). Start with
 * `Session.create()`, parse a .torrent with `parseMetainfo`, then
 * `session.addTorrent(meta, { downloadDir, peers })`; files are `torrent.files`, each with
 * readers, read streams and select/deselect. Protocol internals (wire codec, picker, PEX) are
 * not part of it.
 */
export * from './errors.js';
export { parseMetainfo, type Metainfo, type TorrentFileEntry } from './metainfo/metainfo.js';
export { createTorrent, type CreateTorrentOptions } from './metainfo/create.js';
export { encode as bencodeEncode, type BencodeValue } from './metainfo/bencode.js';
export { freeName } from './metainfo/sanitize.js';
export { FileLayout, type Segment, type LayoutFile } from './layout/file-layout.js';
export { parseHostPort, formatHostPort, type HostPort } from './util/address.js';
export { Session, PEER_ID_PREFIX, type SessionOptions, type AddTorrentOptions, type AddMagnetOptions, type SessionEvents } from './session/session.js';
export { parseMagnet, isMagnet, type Magnet } from './discovery/magnet.js';
export { DhtService, DEFAULT_DHT_BOOTSTRAP, type DhtOptions } from './discovery/dht.js';
export type { DiscoveryStatus } from './discovery/torrent-discovery.js';
export type { TrackerStatus } from './discovery/tracker-announcer.js';
export type { PeerSource } from './discovery/peer-source.js';
export { MetadataError } from './peer/metadata-exchange.js';
export { describeUnreachable, type ConnectionReport } from './torrent/dial-report.js';
export { Torrent, type TorrentStats, type TorrentEvents, type TorrentState, type PeerInfo, type TorrentOptions } from './torrent/torrent.js';
export type { ResumeData } from './torrent/resume-data.js';
export type { RateLimits } from './limits/bandwidth.js';
export type { CacheStats } from './cache/disk-cache.js';
export { writeFileAtomic } from './util/atomic-file.js';
export { HasherPool, sharedHasherPool } from './hash/hasher-pool.js';
export { FileReader, type ReadOptions } from './stream/file-reader.js';
export { TorrentFile } from './stream/torrent-file.js';
export type { FileReadStreamOptions } from './stream/file-read-stream.js';
export { DEFAULT_READAHEAD, type ReadaheadOptions } from './stream/readahead.js';
export { TorrentHttpServer, serveTorrentFile, parseRange, contentType, fileUrlPath } from './http/http-server.js';
export { listenServer, closeServer } from './http/listen-server.js';
