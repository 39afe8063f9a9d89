/** The .torrent made from metadata fetched for a magnet. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import { parseMetainfo } from '../src/metainfo/metainfo.js';
import { buildTorrentFile } from '../src/session/session.js';

test('a .torrent built from fetched metadata keeps the exact info bytes, hence the infohash', () => {
  // Keys deliberately not in the order our encoder would write: the bytes must survive as they are.
  const info = Buffer.concat([Buffer.from('d4:name5:a.bin6:lengthi50000e12:piece lengthi16384e6:pieces80:'), Buffer.alloc(80, 3), Buffer.from('e')]);
  const meta = parseMetainfo(Buffer.concat([Buffer.from('d4:info'), info, Buffer.from('e')]));
  const rebuilt = parseMetainfo(buildTorrentFile(meta.infoBytes, [['udp://t.example:1'], ['http://u.example/announce']]));
  assert.equal(rebuilt.infoHashHex, meta.infoHashHex);
  assert.equal(createHash('sha1').update(rebuilt.infoBytes).digest('hex'), meta.infoHashHex);
  assert.deepEqual(rebuilt.announce, [['udp://t.example:1'], ['http://u.example/announce']]);
});
