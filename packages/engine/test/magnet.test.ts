/** Magnet links. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMagnet } from '../src/discovery/magnet.js';

test('magnet links: hex and base32 infohashes, dn, tr as tiers, x.pe; clear errors otherwise', () => {
  const hex = 'c12fe1c06bba254a9dc9f519b335aa7c1367a88a';
  const m = parseMagnet(`magnet:?xt=urn:btih:${hex}&dn=My%20Film&tr=udp%3A%2F%2Ft.example%3A80&tr=http%3A%2F%2Fu.example%2Fannounce&x.pe=127.0.0.1:6881&x.pe=bad`);
  assert.equal(m.infoHashHex, hex);
  assert.equal(m.name, 'My Film');
  assert.deepEqual(m.trackers, [['udp://t.example:80'], ['http://u.example/announce']]);
  assert.deepEqual(m.peers, ['127.0.0.1:6881'], 'an unusable x.pe is skipped');
  const b32 = parseMagnet('magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK');
  assert.equal(b32.infoHashHex, hex);
  assert.throws(() => parseMagnet('http://example.com'), { code: 'EMAGNET' });
  assert.throws(() => parseMagnet('magnet:?dn=nothing'), { code: 'EMAGNET' });
  assert.throws(() => parseMagnet('magnet:?xt=urn:btih:1234'), { code: 'EMAGNET' });
});
