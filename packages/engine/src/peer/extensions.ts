/**
 * The extension protocol (BEP 10) handshake: which extensions we offer under which message ids,
 * and what we read from a peer's handshake (its ids for the same extensions, its listen port,
 * its metadata size, its request queue limit, its client name). Pure.
 */
import { decodeStrict, encode, type BencodeValue } from '../metainfo/bencode.js';

/** Our message ids for the extensions we speak; a peer sends these ids to us. */
export const LOCAL_EXTENSION_IDS = { ut_metadata: 1, ut_pex: 2 } as const;
export type ExtensionName = keyof typeof LOCAL_EXTENSION_IDS;

/** What we call ourselves in the extension handshake (`v`). */
export const CLIENT_VERSION = 'ct 0.1.0';

/** The request queue we advertise (`reqq`) and serve: more queued requests are rejected. */
export const ADVERTISED_REQQ = 500;

/** Metadata (the info dictionary) larger than this is refused from peers; libtorrent's limit is 4 MiB too. */
export const MAX_METADATA_SIZE = 4 * 1024 * 1024;

export interface OwnExtendedHandshake {
  /** Offer ut_pex (never for private torrents, BEP 27). */
  pex: boolean;
  /** Size of the info dictionary when we have it (we serve ut_metadata then). */
  metadataSize?: number;
  /** Our listening port: lets a peer that we dialed tell others where to find us. */
  listenPort?: number;
  clientVersion: string;
  reqq: number;
}

export function encodeExtendedHandshake(h: OwnExtendedHandshake): Buffer {
  const m: Record<string, number> = { ut_metadata: LOCAL_EXTENSION_IDS.ut_metadata };
  if (h.pex) m.ut_pex = LOCAL_EXTENSION_IDS.ut_pex;
  const dict: Record<string, unknown> = { m, v: h.clientVersion, reqq: h.reqq };
  if (h.metadataSize) dict.metadata_size = h.metadataSize;
  if (h.listenPort) dict.p = h.listenPort;
  return encode(dict);
}

export interface PeerExtendedHandshake {
  /** The peer's message ids for the extensions we know (absent or 0: not supported). */
  ids: Partial<Record<ExtensionName, number>>;
  listenPort?: number;
  metadataSize?: number;
  reqq?: number;
  client?: string;
  /** The decoded dictionary, for ut_metadata which reads it itself. */
  raw: Record<string, BencodeValue>;
}

const isDict = (v: BencodeValue | undefined): v is Record<string, BencodeValue> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

/** Reads a peer's extension handshake; undefined when it is not a dictionary at all. */
export function parseExtendedHandshake(payload: Buffer): PeerExtendedHandshake | undefined {
  let root: BencodeValue;
  try {
    root = decodeStrict(payload);
  } catch {
    return undefined;
  }
  if (!isDict(root)) return undefined;
  const ids: Partial<Record<ExtensionName, number>> = {};
  if (isDict(root.m)) {
    for (const name of Object.keys(LOCAL_EXTENSION_IDS) as ExtensionName[]) {
      const id = root.m[name];
      if (typeof id === 'number' && Number.isInteger(id) && id > 0 && id < 256) ids[name] = id;
    }
  }
  const int = (v: BencodeValue | undefined) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined);
  const port = int(root.p);
  return {
    ids,
    listenPort: port !== undefined && port > 0 && port < 65536 ? port : undefined,
    metadataSize: int(root.metadata_size),
    reqq: int(root.reqq),
    client: root.v instanceof Uint8Array ? Buffer.from(root.v).toString('utf8').slice(0, 64) : undefined,
    raw: root,
  };
}
