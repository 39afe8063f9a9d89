/** The BEP 10 extension handshake, ours and theirs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from '../src/metainfo/bencode.js';
import { encodeExtendedHandshake, parseExtendedHandshake } from '../src/peer/extensions.js';

test('extension handshakes: ours offers ut_pex only when asked (never for private torrents); theirs is read defensively', () => {
  const pub = parseExtendedHandshake(encodeExtendedHandshake({ pex: true, metadataSize: 1234, listenPort: 6881, clientVersion: 'ct', reqq: 500 }));
  assert.deepEqual(pub?.ids, { ut_metadata: 1, ut_pex: 2 });
  assert.equal(pub?.metadataSize, 1234);
  assert.equal(pub?.listenPort, 6881);
  const priv = parseExtendedHandshake(encodeExtendedHandshake({ pex: false, clientVersion: 'ct', reqq: 500 }));
  assert.deepEqual(priv?.ids, { ut_metadata: 1 });
  const odd = parseExtendedHandshake(encode({ m: { ut_pex: 300, ut_metadata: 'x' }, p: 70000 }));
  assert.deepEqual(odd?.ids, {}, 'ids out of range are ignored');
  assert.equal(odd?.listenPort, undefined);
  assert.equal(parseExtendedHandshake(Buffer.from('li1ee')), undefined);
});
