/**
 * Peers in compact form (BEP 23, BEP 7): what trackers and ut_pex send. Pure.
 */
import { formatHostPort } from './address.js';

/** Peers in compact form: 6 bytes each (IPv4 + port) or 18 (IPv6 + port); port 0 is skipped. */
export function parseCompactPeers(buf: Uint8Array, v6: boolean, limit = 1000): string[] {
  const size = v6 ? 18 : 6;
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: string[] = [];
  for (let at = 0; at + size <= b.length && out.length < limit; at += size) {
    const port = b.readUInt16BE(at + size - 2);
    if (port === 0) continue;
    let host: string;
    if (v6) {
      const groups: string[] = [];
      for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(at + i * 2).toString(16));
      host = groups.join(':');
    } else {
      host = `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
    }
    out.push(formatHostPort({ host, port }));
  }
  return out;
}
