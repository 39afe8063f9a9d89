/**
 * The configuration (src/config): file < environment < flag, values parsed like the flags they
 * stand in for, and every mistake one line naming the key, the file and the line.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { applyConfig, configOption } from '../src/config/apply-config.js';
import { CONFIG_KEYS, envName } from '../src/config/config-keys.js';
import { ConfigError, loadConfig } from '../src/config/load-config.js';
import { listenOption } from '../src/options.js';

async function withFile(text: string, fn: (file: string) => void | Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ct-config-'));
  try {
    const file = path.join(dir, 'config.toml');
    await writeFile(file, text);
    await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('defaults, then the file (with its line), then the environment', async () => {
  await withFile('# ct\n[session]\nlisten = "127.0.0.1:7000"\ndht = false\n\n[mount]\nread_timeout = 12.5\n', (file) => {
    const only = loadConfig({ file, env: {} });
    assert.deepEqual(only.get('session.listen'), { key: only.get('session.listen')!.key, value: '127.0.0.1:7000', origin: { kind: 'file', file, line: 3 } });
    assert.equal(only.get('session.dht')!.value, false);
    assert.equal(only.get('mount.read_timeout')!.value, 12.5);
    assert.equal(only.get('mount.eagain')!.origin.kind, 'default');
    const env = loadConfig({ file, env: { CT_SESSION_LISTEN: '127.0.0.1:7001', CT_MOUNT_EAGAIN: 'yes' } });
    assert.deepEqual([env.get('session.listen')!.value, env.get('session.listen')!.origin], ['127.0.0.1:7001', { kind: 'env', variable: 'CT_SESSION_LISTEN' }]);
    assert.equal(env.get('mount.eagain')!.value, true);
  });
});

test('dotted keys and quoted keys are found on their line; ~ is the home folder', async () => {
  await withFile('session.download_dir = "~/dl"\n[mount]\n"allow_other" = true\n', (file) => {
    const c = loadConfig({ file, env: {} });
    assert.equal(c.get('session.download_dir')!.value, path.join(process.env.HOME ?? '', 'dl'));
    assert.deepEqual(c.get('session.download_dir')!.origin, { kind: 'file', file, line: 1 });
    assert.deepEqual(c.get('mount.allow_other')!.origin, { kind: 'file', file, line: 3 });
  });
});

test('mistakes are one ConfigError naming the key, the file and the line', async () => {
  const cases: [string, RegExp][] = [
    ['[session]\nlistn = "x"\n', /config\.toml:2: unknown key session\.listn \(did you mean session\.listen\?\)$/],
    ['[sesion]\nlisten = "x"\n', /config\.toml:1: unknown section \[sesion\] \(did you mean session\?\)/],
    ['[mount]\n\nread_timeout = -3\n', /config\.toml:3: bad value for mount\.read_timeout: expected a positive number of seconds$/],
    ['[mount]\neagain = "maybe"\n', /config\.toml:2: bad value for mount\.eagain: expected true or false$/],
    ['[session]\ndht_bootstrap = ["a.b"]\n', /config\.toml:2: bad value for session\.dht_bootstrap: "a\.b" is not HOST:PORT/],
    ['[session]\nlisten = 5\n', /config\.toml:2: bad value for session\.listen: expected a string$/],
    ['[mount\nx = 1\n', /config\.toml:1:7: not valid TOML: /],
    ['mount = 3\n', /config\.toml:1: mount must be a \[mount\] table of keys$/],
  ];
  for (const [text, message] of cases) {
    await withFile(text, (file) => {
      assert.throws(() => loadConfig({ file, env: {} }), (err: Error) => err instanceof ConfigError && message.test(err.message) && !err.message.includes('\n'), text);
    });
  }
  assert.throws(() => loadConfig({ file: '/nonexistent/ct.toml', env: {} }), /cannot read the config file \/nonexistent\/ct\.toml: no such file/);
  assert.throws(() => loadConfig({ file: '/nonexistent/ct.toml', env: { CT_MOUNT_READTIMEOUT: '3' } }), /cannot read/);
  assert.throws(() => loadConfig({ env: { XDG_CONFIG_HOME: '/nonexistent', CT_MOUNT_READTIMEOUT: '3' } }), /unknown variable CT_MOUNT_READTIMEOUT \(did you mean CT_MOUNT_READ_TIMEOUT\?\)/);
  assert.throws(() => loadConfig({ env: { XDG_CONFIG_HOME: '/nonexistent', CT_SESSION_LISTEN: 'nope' } }), /^.*CT_SESSION_LISTEN: bad value for session\.listen: expected HOST:PORT/);
  // No file at the default path is no error; other CT_ variables are not keys.
  assert.equal(loadConfig({ env: { XDG_CONFIG_HOME: '/nonexistent', CT_DEBUG: '1', CT_NO_MAPPED_WRITE: '1' } }).get('session.listen')!.origin.kind, 'default');
  assert.equal(loadConfig({ env: { XDG_CONFIG_HOME: '/nonexistent', CT_NO_DHT: '1' } }).get('session.dht')!.value, false);
});

test('under a command: a flag beats the environment, which beats the file, which beats the default', async () => {
  await withFile('[session]\nlisten = "127.0.0.1:7000"\ndownload_dir = "/from/file"\n', (file) => {
    const run = (args: string[], env: NodeJS.ProcessEnv) => {
      const saved = { ...process.env };
      Object.assign(process.env, env);
      try {
        const cmd = new Command('x').exitOverride().addOption(listenOption()).option('--download-dir <dir>', 'd', '.').addOption(configOption()).action(() => undefined);
        cmd.hook('preAction', (c) => { applyConfig(c); });
        cmd.parse(['--config', file, ...args], { from: 'user' });
        return cmd.opts() as { listen: string; downloadDir: string };
      } finally {
        for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
      }
    };
    assert.deepEqual(run([], {}), { listen: '127.0.0.1:7000', downloadDir: '/from/file', config: file });
    assert.equal(run([], { CT_SESSION_LISTEN: '127.0.0.1:7001' }).listen, '127.0.0.1:7001');
    assert.equal(run(['--listen', '127.0.0.1:7002'], { CT_SESSION_LISTEN: '127.0.0.1:7001' }).listen, '127.0.0.1:7002');
    assert.equal(run(['--download-dir', 'here'], {}).downloadDir, 'here');
  });
});

test('every key has an environment variable of the documented form and a flag when it stands in for one', () => {
  for (const key of CONFIG_KEYS) {
    assert.match(envName(key.name), /^CT_[A-Z]+_[A-Z_]+$/);
    assert.equal(key.option === undefined, key.flag === undefined, key.name);
  }
});

test('README.md documents every key with its variable', async () => {
  const { readFile } = await import('node:fs/promises');
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
  for (const key of CONFIG_KEYS) {
    assert.ok(readme.includes(`| \`${key.name}\` |`), `README.md has no row for ${key.name}`);
    assert.ok(readme.includes(`\`${envName(key.name)}\``), `README.md does not name ${envName(key.name)}`);
  }
});
