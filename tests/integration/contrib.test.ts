/**
 * Running ct as a service: contrib/ct.service passes systemd-analyze verify (with the ct that
 * setup.sh puts on PATH), and its ExecStart is a command line ct accepts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/procs.js';

const UNIT = path.join(ROOT, 'contrib', 'ct.service');

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) =>
    resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })));
}

test('contrib/ct.service passes systemd-analyze verify', { timeout: 90_000 }, async () => {
  const r = await run('systemd-analyze', ['verify', UNIT]);
  // verify prints problems of the unit itself on stderr; nothing may name ct.service.
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /ct\.service/, r.stderr);
});

test("the unit's ExecStart is a command line ct accepts", async () => {
  const unit = await readFile(UNIT, 'utf8');
  const exec = /^ExecStart=(\S+) (.*)$/m.exec(unit);
  assert.ok(exec, 'an ExecStart line');
  assert.equal(exec[1], '/usr/local/bin/ct');
  // Every option of its command line is one ct serve --help lists.
  const help = await run(exec[1], ['serve', '--help']);
  assert.equal(help.code, 0, help.stderr);
  for (const opt of exec[2].match(/--[a-z-]+/g) ?? []) assert.match(help.stdout, new RegExp(`${opt}\\b`), opt);
});
