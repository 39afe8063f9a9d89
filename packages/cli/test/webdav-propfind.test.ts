/** What a PROPFIND body asks for, as clients write them (Windows, macOS, rclone, cadaver). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePropfind } from '../src/service/webdav.js';

test('an empty body, or allprop, is allprop; propname is propname', () => {
  assert.deepEqual(parsePropfind(''), { kind: 'allprop' });
  assert.deepEqual(parsePropfind('<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'), { kind: 'allprop' });
  assert.deepEqual(parsePropfind('<propfind xmlns="DAV:"><propname/></propfind>'), { kind: 'propname' });
});

test('named properties keep their namespace: a prefix, the default namespace, or one declared on the element', () => {
  const windows = '<?xml version="1.0" encoding="utf-8" ?><D:propfind xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:prop><D:getcontentlength/><Z:Win32FileAttributes/></D:prop></D:propfind>';
  assert.deepEqual(parsePropfind(windows), { kind: 'prop', props: [{ ns: 'DAV:', name: 'getcontentlength' }, { ns: 'urn:schemas-microsoft-com:', name: 'Win32FileAttributes' }] });
  const defaultNs = '<propfind xmlns="DAV:"><prop><getlastmodified/><resourcetype/><quota xmlns="http://example.com/ns"/></prop></propfind>';
  assert.deepEqual(parsePropfind(defaultNs), { kind: 'prop', props: [{ ns: 'DAV:', name: 'getlastmodified' }, { ns: 'DAV:', name: 'resourcetype' }, { ns: 'http://example.com/ns', name: 'quota' }] });
  // rclone's own (with whitespace between elements).
  const rclone = '<?xml version="1.0"?>\n<d:propfind  xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">\n <d:prop>\n  <d:displayname />\n  <oc:checksums />\n </d:prop>\n</d:propfind>';
  assert.deepEqual(parsePropfind(rclone), { kind: 'prop', props: [{ ns: 'DAV:', name: 'displayname' }, { ns: 'http://owncloud.org/ns', name: 'checksums' }] });
});

test('a body that is not a propfind is refused with 400', () => {
  assert.throws(() => parsePropfind('<lockinfo xmlns="DAV:"/>'), (err: Error & { status?: number }) => err.status === 400);
  assert.throws(() => parsePropfind('not xml at all'), (err: Error & { status?: number }) => err.status === 400);
});
