/**
 * The pure parts of "no peer can starve ct" (issue 10): the half-open table, the eviction choice,
 * the dial report, and the strict ut_metadata codec.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bencodeEncode } from '../src/index.js';
import { ProtocolError } from '../src/errors.js';
import { HalfOpenTable } from '../src/session/half-open.js';
import { pickEvictee, type EvictionCandidate } from '../src/torrent/peer-eviction.js';
import { DialReport, describeUnreachable } from '../src/torrent/dial-report.js';
import { decodeMetadataMessage, encodeMetadataMessage } from '../src/peer/metadata-message.js';
import { MetadataServer } from '../src/peer/metadata-server.js';

test('half-open table: bounded in all and per address; the oldest makes room', () => {
  const t = new HalfOpenTable<string>({ maxHalfOpen: 4, maxHalfOpenPerAddress: 2 });
  assert.deepEqual(t.admit('a1', 'A'), []);
  assert.deepEqual(t.admit('a2', 'A'), []);
  assert.deepEqual(t.admit('a3', 'A'), ['a1'], 'per address: the oldest of that address');
  assert.deepEqual(t.admit('b1', 'B'), []);
  assert.deepEqual(t.admit('c1', 'C'), []);
  assert.equal(t.size, 4);
  assert.deepEqual(t.admit('d1', 'D'), ['a2'], 'in all: the oldest of all');
  t.remove('b1');
  assert.deepEqual(t.admit('e1', 'E'), [], 'a handshake frees its slot');
  t.remove('nope');
  assert.equal(t.size, 4);
});

test('eviction: only a useless peer past its grace period, the one silent the longest', () => {
  const base: EvictionCandidate = { key: '', connectedAt: 0, lastMessageAt: 0, downloaded: 0, uploaded: 0, peerInterested: false, amInterested: false };
  const now = 100_000;
  const peers: EvictionCandidate[] = [
    { ...base, key: 'useful-down', downloaded: 1, lastMessageAt: 1 },
    { ...base, key: 'useful-up', uploaded: 1, lastMessageAt: 1 },
    { ...base, key: 'interested', peerInterested: true, lastMessageAt: 1 },
    { ...base, key: 'wanted', amInterested: true, lastMessageAt: 1 },
    { ...base, key: 'new', connectedAt: now - 1000, lastMessageAt: 0 },
    { ...base, key: 'silent-recent', lastMessageAt: 50_000 },
    { ...base, key: 'silent-long', lastMessageAt: 10_000 },
  ];
  assert.equal(pickEvictee(peers, now), 'silent-long');
  assert.equal(pickEvictee(peers.slice(0, 5), now), undefined, 'a cap full of useful or new peers refuses the newcomer');
});

test('dial report: what attempts met, and the line a user reads', () => {
  const r = new DialReport();
  r.failed('a:1', 'handshake-closed');
  r.failed('b:1', 'handshake-closed');
  r.failed('c:1', 'unreachable');
  r.failed('d:1', 'handshake-silent');
  r.failed('e:1', 'unreachable');
  r.connected('e:1');
  r.failed('e:1', 'unreachable'); // once connected, it does not count as unreachable
  r.failed('f:1', 'no-slot');
  assert.deepEqual(r.report(), { connected: 1, unreachable: 1, handshakeClosed: 2, handshakeSilent: 1, refused: 0 });
  assert.match(describeUnreachable(r.report()), /2 peers closed the connection during the handshake \(they may require encryption/);
  assert.equal(describeUnreachable(new DialReport().report()), '');
});

test('ut_metadata codec: strict on every field, exact piece sizes, no trailing bytes', () => {
  const size = 40_000; // 3 pieces: 16384, 16384, 7232
  const ok = decodeMetadataMessage(bencodeEncode({ msg_type: 0, piece: 2 }), size);
  assert.deepEqual(ok, { type: 'request', piece: 2 });
  const data = Buffer.alloc(7232, 7);
  const msg = decodeMetadataMessage(Buffer.concat([bencodeEncode({ msg_type: 1, piece: 2, total_size: size }), data]), size);
  assert.equal(msg.type, 'data');
  assert.ok(msg.type === 'data' && msg.data.equals(data));
  assert.ok(encodeMetadataMessage(msg).equals(Buffer.concat([bencodeEncode({ msg_type: 1, piece: 2, total_size: size }), data])));
  const bad: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['not a dict', Buffer.from('i5e')],
    ['a list', Buffer.from('le')],
    ['negative string length (the package loops forever)', Buffer.from('d-4294967295:ee')],
    ['negative piece (the package throws RangeError)', Buffer.from('d8:msg_typei1e5:piecei-1eeX')],
    ['unknown type', bencodeEncode({ msg_type: 7, piece: 0 })],
    ['type as string', bencodeEncode({ msg_type: '0', piece: 0 })],
    ['no piece', bencodeEncode({ msg_type: 0 })],
    ['fractional-looking piece', Buffer.from('d8:msg_typei0e5:piece3:1.5e')],
    ['huge integer', Buffer.from('d8:msg_typei0e5:piecei99999999999999999999ee')],
    ['trailing bytes on a request', Buffer.concat([bencodeEncode({ msg_type: 0, piece: 0 }), Buffer.from('x')])],
    ['data of the wrong size', Buffer.concat([bencodeEncode({ msg_type: 1, piece: 0, total_size: size }), Buffer.alloc(10)])],
    ['data past the end', Buffer.concat([bencodeEncode({ msg_type: 1, piece: 3, total_size: size }), Buffer.alloc(10)])],
    ['data with another total size', Buffer.concat([bencodeEncode({ msg_type: 1, piece: 2, total_size: size + 1 }), data])],
    ['deep nesting', Buffer.from('d1:a' + 'l'.repeat(5000) + 'e'.repeat(5000) + 'e')],
    ['truncated', Buffer.from('d8:msg_typei0e5:piecei0e')],
  ];
  for (const [what, payload] of bad) assert.throws(() => decodeMetadataMessage(payload, size), ProtocolError, what);
});

test('metadata server: a request past the end gets a reject, not an empty data message', () => {
  const info = Buffer.alloc(20_000, 1);
  const sent: Buffer[] = [];
  const server = new MetadataServer(info, (p) => sent.push(p));
  server.onMessage(bencodeEncode({ msg_type: 0, piece: 1 }));
  server.onMessage(bencodeEncode({ msg_type: 0, piece: 2 }));
  server.onMessage(bencodeEncode({ msg_type: 0, piece: 4_000_000 }));
  assert.deepEqual(decodeMetadataMessage(sent[0], info.length), { type: 'data', piece: 1, totalSize: info.length, data: info.subarray(16384) });
  assert.deepEqual(decodeMetadataMessage(sent[1], undefined), { type: 'reject', piece: 2 });
  assert.deepEqual(decodeMetadataMessage(sent[2], undefined), { type: 'reject', piece: 4_000_000 });
  assert.throws(() => server.onMessage(Buffer.from('d-4294967295:ee')), ProtocolError);
});
