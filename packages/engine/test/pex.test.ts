/** ut_pex (BEP 11): the codec and the per-peer view. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PexView, decodePex, encodePex, PEX_MAX_ADDRESSES } from '../src/peer/pex.js';
import { encode } from '../src/metainfo/bencode.js';

test('ut_pex messages round-trip IPv4 and IPv6 peers, at most 50 each way; garbage decodes as empty', () => {
  const added = ['10.0.0.1:6881', '[2001:db8::1]:51413', '192.168.1.20:1'];
  const msg = decodePex(encodePex({ added, dropped: ['10.0.0.9:80'] }));
  assert.deepEqual(msg.added.sort(), ['10.0.0.1:6881', '192.168.1.20:1', '[2001:db8:0:0:0:0:0:1]:51413'].sort());
  assert.deepEqual(msg.dropped, ['10.0.0.9:80']);
  const many = Array.from({ length: 120 }, (_, i) => `10.1.${i >> 8}.${i & 255}:7000`);
  assert.equal(decodePex(encodePex({ added: many, dropped: [] })).added.length, PEX_MAX_ADDRESSES);
  // A hostile peer packing 200 peers into one message still gives us 50.
  const packed = encode({ added: Buffer.alloc(6 * 200, 1) });
  assert.equal(decodePex(packed).added.length, PEX_MAX_ADDRESSES);
  assert.deepEqual(decodePex(Buffer.from('not bencode')), { added: [], dropped: [] });
  assert.deepEqual(decodePex(encode({ added: 5 })), { added: [], dropped: [] });
});
test('PexView sends only changes, never the peer itself', () => {
  const view = new PexView();
  assert.deepEqual(view.next(['a:1', 'b:2', 'self:3'], 'self:3'), { added: ['a:1', 'b:2'], dropped: [] });
  assert.equal(view.next(['a:1', 'b:2'], 'self:3'), undefined, 'nothing changed');
  assert.deepEqual(view.next(['b:2', 'c:4'], 'self:3'), { added: ['c:4'], dropped: ['a:1'] });
});
