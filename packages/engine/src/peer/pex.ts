/**
 * Peer exchange (ut_pex, BEP 11): peers tell each other which peers they are connected to, so a
 * swarm stays connected without asking trackers or the DHT. Pure: the message codec and, per
 * remote peer, the view we last sent (each message carries only what changed since).
 *
 * Limits, as libtorrent applies them: at most 50 added and 50 dropped addresses per message in
 * each direction; addresses beyond that in a received message are ignored.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { decodeStrict, encode } from '../metainfo/bencode.js';
import { parseHostPort } from '../util/address.js';
import { parseCompactPeers } from '../util/compact-peers.js';

export const PEX_MAX_ADDRESSES = 50;

export interface PexMessage {
  added: string[];
  dropped: string[];
}

/** Compact form of one address: 4 or 16 address bytes, then the port (BEP 23 / BEP 7). */
function compact(address: string): { v6: boolean; bytes: Buffer } | undefined {
  const { host, port } = parseHostPort(address);
  if (isIPv4(host)) {
    const b = Buffer.alloc(6);
    host.split('.').forEach((o, i) => { b[i] = Number(o); });
    b.writeUInt16BE(port, 4);
    return { v6: false, bytes: b };
  }
  if (!isIPv6(host)) return undefined; // host names are not exchanged
  const b = Buffer.alloc(18);
  const [head, tail] = host.includes('::') ? host.split('::') : [host, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  b.writeUInt16BE(port, 16);
  return { v6: true, bytes: b };
}

function uncompact(buf: Uint8Array | undefined, v6: boolean, limit: number): string[] {
  return buf instanceof Uint8Array && limit > 0 ? parseCompactPeers(buf, v6, limit) : [];
}

export function encodePex(msg: PexMessage): Buffer {
  const parts = { added: [] as Buffer[], added6: [] as Buffer[], dropped: [] as Buffer[], dropped6: [] as Buffer[] };
  for (const a of msg.added.slice(0, PEX_MAX_ADDRESSES)) {
    const c = compact(a);
    if (c) (c.v6 ? parts.added6 : parts.added).push(c.bytes);
  }
  for (const a of msg.dropped.slice(0, PEX_MAX_ADDRESSES)) {
    const c = compact(a);
    if (c) (c.v6 ? parts.dropped6 : parts.dropped).push(c.bytes);
  }
  return encode({
    added: Buffer.concat(parts.added),
    'added.f': Buffer.alloc(parts.added.length),
    added6: Buffer.concat(parts.added6),
    'added6.f': Buffer.alloc(parts.added6.length),
    dropped: Buffer.concat(parts.dropped),
    dropped6: Buffer.concat(parts.dropped6),
  });
}

/** Decodes a ut_pex payload; anything malformed reads as an empty message (never throws). */
export function decodePex(payload: Buffer): PexMessage {
  let dict: unknown;
  try {
    dict = decodeStrict(payload);
  } catch {
    return { added: [], dropped: [] };
  }
  if (typeof dict !== 'object' || dict === null || Array.isArray(dict) || dict instanceof Uint8Array) return { added: [], dropped: [] };
  const d = dict as Record<string, Uint8Array | undefined>;
  const added = uncompact(d.added, false, PEX_MAX_ADDRESSES);
  added.push(...uncompact(d.added6, true, PEX_MAX_ADDRESSES - added.length));
  const dropped = uncompact(d.dropped, false, PEX_MAX_ADDRESSES);
  dropped.push(...uncompact(d.dropped6, true, PEX_MAX_ADDRESSES - dropped.length));
  return { added, dropped };
}

/** What one remote peer has been told: the next message is the difference to the current view. */
export class PexView {
  private sent = new Set<string>();

  /** The message that brings this peer up to `current` (minus itself), or undefined if nothing changed. */
  next(current: Iterable<string>, self: string): PexMessage | undefined {
    const now = new Set<string>();
    for (const a of current) if (a !== self) now.add(a);
    const added: string[] = [];
    for (const a of now) if (!this.sent.has(a) && added.length < PEX_MAX_ADDRESSES) added.push(a);
    const dropped: string[] = [];
    for (const a of this.sent) if (!now.has(a) && dropped.length < PEX_MAX_ADDRESSES) dropped.push(a);
    if (added.length === 0 && dropped.length === 0) return undefined;
    for (const a of added) this.sent.add(a);
    for (const a of dropped) this.sent.delete(a);
    return { added, dropped };
  }
}
