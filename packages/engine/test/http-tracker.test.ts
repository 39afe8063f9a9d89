/** HTTP tracker answers and announce URLs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCompactPeers } from '../src/util/compact-peers.js';
import { announceUrl, parseHttpAnnounce, percentBytes } from '../src/discovery/http-tracker.js';
import { encode } from '../src/metainfo/bencode.js';

test('HTTP announce answers: compact IPv4 and IPv6 peers, dictionary peers, warnings; refusals and nonsense become TrackerErrors', () => {
  const peers = Buffer.from([127, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 2, 0, 0]); // the second has port 0
  const peers6 = Buffer.alloc(18);
  peers6[15] = 1;
  peers6.writeUInt16BE(6881, 16);
  const r = parseHttpAnnounce(encode({ interval: 1800, complete: 3, incomplete: 1, peers, peers6, 'warning message': 'be nice' }));
  assert.deepEqual(r.peers, ['127.0.0.1:6881', '[0:0:0:0:0:0:0:1]:6881']);
  assert.equal(r.seeders, 3);
  assert.equal(r.warning, 'be nice');
  const dicts = parseHttpAnnounce(encode({ interval: 60, peers: [{ ip: '10.0.0.5', port: 51413 }, { ip: 'x', port: 0 }, 'junk'] }));
  assert.deepEqual(dicts.peers, ['10.0.0.5:51413']);
  assert.throws(() => parseHttpAnnounce(encode({ 'failure reason': 'unregistered torrent' })), /tracker refused: unregistered torrent/);
  assert.throws(() => parseHttpAnnounce(encode({ 'failure reason': 5 })), /tracker refused: no reason given/);
  assert.throws(() => parseHttpAnnounce(Buffer.from('<html>')), { code: 'ETRACKER' });
  assert.throws(() => parseHttpAnnounce(encode([1, 2])), /not a dictionary/);
  assert.deepEqual(parseCompactPeers(Buffer.alloc(5), false), [], 'a short compact list yields nothing');
});
test('announce URLs percent-encode raw bytes and keep an existing query', () => {
  assert.equal(percentBytes(Buffer.from([0x41, 0x20, 0xff, 0x2e])), 'A%20%FF.');
  const url = announceUrl('http://t.example/announce?passkey=abc', {
    infoHash: Buffer.alloc(20, 0xab), peerId: Buffer.from('-ct0100-abcdefghijkl'), port: 6881, uploaded: 0, downloaded: 10, left: 5,
    event: 'started', numwant: 50, key: 255,
  });
  assert.match(url, /^http:\/\/t\.example\/announce\?passkey=abc&info_hash=(%AB){20}&peer_id=-ct0100-abcdefghijkl&port=6881&/);
  assert.match(url, /&event=started/);
  assert.match(url, /&key=ff/);
});
