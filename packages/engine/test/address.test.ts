/** host:port parsing and formatting. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHostPort, formatHostPort } from '../src/util/address.js';

test('addresses: IPv4, IPv6 and names; bad ones are refused', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:6881'), { host: '127.0.0.1', port: 6881 });
  assert.deepEqual(parseHostPort('[::1]:51413'), { host: '::1', port: 51413 });
  assert.deepEqual(parseHostPort('example.org:80'), { host: 'example.org', port: 80 });
  assert.equal(formatHostPort({ host: '::1', port: 1 }), '[::1]:1');
  for (const bad of ['127.0.0.1', '::1:6881', '[::1]', 'host:0', 'host:70000', 'host:x', ':80', '[zz]:1']) {
    assert.throws(() => parseHostPort(bad), /invalid/, bad);
  }
  assert.deepEqual(parseHostPort('0.0.0.0:0', { listen: true }), { host: '0.0.0.0', port: 0 });
});
