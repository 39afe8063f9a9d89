/** The magnet link of a torrent (BEP 9): infohash, name and trackers. */
import type { Metainfo } from '@ct/engine';

export function magnetOf(meta: Metainfo): string {
  const parts = [`xt=urn:btih:${meta.infoHashHex}`, `dn=${encodeURIComponent(meta.name)}`];
  for (const tier of meta.announce) for (const url of tier) parts.push(`tr=${encodeURIComponent(url)}`);
  return `magnet:?${parts.join('&')}`;
}
