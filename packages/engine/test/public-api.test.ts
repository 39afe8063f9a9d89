/**
 * The exported surface is what docs/api/README.md says: every value exported is listed there, and
 * every value listed is exported. Adding to the public API is a decision, made in both places.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import * as api from '../src/index.js';

test('the exported values are exactly those docs/api/README.md lists', async () => {
  const doc = await readFile(new URL('../../../docs/api/README.md', import.meta.url), 'utf8');
  const values = doc.slice(doc.indexOf('## Values'), doc.indexOf('## Types'));
  const listed = new Set<string>();
  for (const row of values.split('\n').filter((l) => l.startsWith('| `'))) {
    const first = row.split('|')[1];
    for (const m of first.matchAll(/`([A-Za-z_]\w*)`/g)) listed.add(m[1]);
  }
  const exported = Object.keys(api).sort();
  assert.deepEqual(exported.filter((e) => !listed.has(e)), [], 'exported but not documented');
  assert.deepEqual([...listed].filter((e) => !(e in api)).sort(), [], 'documented but not exported');
});
