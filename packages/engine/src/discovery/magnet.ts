/**
 * Magnet links (BEP 9) through magnet-uri: the infohash (hex or base32 `btih`), the display name
 * (`dn`), trackers (`tr`, each its own tier as libtorrent does) and peer addresses (`x.pe`).
 * Anything we cannot use becomes one clear MagnetError.
 */
import { decode } from 'magnet-uri';
import { MagnetError } from '../errors.js';
import { parseHostPort } from '../util/address.js';

export interface Magnet {
  infoHash: Buffer;
  infoHashHex: string;
  /** `dn`: what to call the torrent until its metadata arrives. */
  name?: string;
  /** `tr`, one tier each. */
  trackers: string[][];
  /** `x.pe`: peers to ask first. */
  peers: string[];
}

export function isMagnet(text: string): boolean {
  return /^magnet:\?/i.test(text.trim());
}

export function parseMagnet(uri: string): Magnet {
  if (!isMagnet(uri)) throw new MagnetError('not a magnet link (expected magnet:?xt=urn:btih:...)');
  let m;
  try {
    m = decode(uri.trim());
  } catch (err) {
    throw new MagnetError(`malformed magnet link: ${(err as Error).message}`);
  }
  if (!m.infoHash || !/^[0-9a-f]{40}$/.test(m.infoHash)) {
    throw new MagnetError('magnet link has no BitTorrent v1 infohash (xt=urn:btih:<40 hex or 32 base32 characters>)');
  }
  const peers: string[] = [];
  for (const p of m.peerAddresses ?? []) {
    try {
      parseHostPort(p);
      peers.push(p);
    } catch {
      // an unusable x.pe is skipped, the others still help
    }
  }
  const name = Array.isArray(m.name) ? m.name[0] : m.name;
  return {
    infoHash: Buffer.from(m.infoHash, 'hex'),
    infoHashHex: m.infoHash,
    name: typeof name === 'string' && name.length ? name : undefined,
    trackers: (m.announce ?? []).filter((u) => /^(https?|udp):\/\//i.test(u)).map((u) => [u]),
    peers,
  };
}
