/**
 * `ct` as a user runs it (issue 11): the `ct` on PATH from another working directory, under a real
 * pseudo-terminal of 80 and 40 columns, piped and with --json. Checks the bar never exceeds the
 * width, rates are plausible from the first second, torrents work as arguments everywhere, typos
 * get suggestions, exit codes, --version, and that every option README.md documents for a
 * command appears in that command's --help.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { parseMetainfo, type Metainfo } from '@ct/engine';
import { exists, makeTree, removeDir, sameTree, tempDir } from '../helpers/fixtures.js';
import { HostilePeer } from '../helpers/hostile-peer.js';
import { Proc, ROOT, freePort, libtorrentSeeder, stopAll } from '../helpers/procs.js';

const PTY = path.join(ROOT, 'tests', 'helpers', 'pty_run.py');
let work: string;
let cwd: string;
let meta: Metainfo;
let slowSeed: string;
const hostiles: HostilePeer[] = [];

/** Runs the `ct` on PATH (what setup.sh links) in `dir`, as a shell would. */
function ctHere(args: string[], opts: { dir?: string; env?: NodeJS.ProcessEnv } = {}): Proc {
  return new Proc(spawn('ct', args, { cwd: opts.dir ?? cwd, stdio: 'pipe', env: { ...process.env, ...opts.env } }), `ct ${args[0]}`);
}
async function run(args: string[], opts: { dir?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) {
  const p = ctHere(args, opts);
  const code = await p.waitExit(opts.timeoutMs ?? 60_000);
  return { code, stdout: p.stdout, stderr: p.stderr };
}
function sh(cmd: string, dir = cwd): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile('bash', ['-c', cmd], { cwd: dir, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
    resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })));
}

before(async () => {
  work = await tempDir('ct-cli-');
  cwd = path.join(work, 'user');
  await mkdir(cwd);
  await makeTree(path.join(cwd, 'album'), [['01.flac', 3 * 1024 * 1024 + 11], ['02.flac', 2 * 1024 * 1024], ['cover.jpg', 40_000], ['notes/readme.txt', 900]]);
  // Relative paths, from the user's directory.
  const made = await run(['create', 'album', '-o', 'album.torrent', '--piece-length', '64k']);
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /magnet: magnet:\?xt=urn:btih:[0-9a-f]{40}&dn=album/);
  meta = parseMetainfo(await readFile(path.join(cwd, 'album.torrent')));
  // A libtorrent seeder at 2 MB/s: a download of the ~5 MiB album takes a few seconds.
  slowSeed = `127.0.0.1:${(await libtorrentSeeder(path.join(cwd, 'album.torrent'), cwd, { rate: 2_000_000 })).port}`;
});
after(async () => {
  await stopAll();
  await Promise.all(hostiles.map((h) => h.close()));
  await removeDir(work);
});

test('ct is on PATH, prints its version, and resolves relative paths against the caller\'s directory', async () => {
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'packages', 'cli', 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) assert.equal((await run([flag])).stdout.trim(), pkg.version);
  const info = await run(['info', 'album.torrent']);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /^name: +album$/m);
  // The default download dir is the caller's directory.
  const dir = path.join(work, 'elsewhere');
  await mkdir(dir);
  await writeFile(path.join(dir, 'a.torrent'), await readFile(path.join(cwd, 'album.torrent')));
  const dl = await run(['download', 'a.torrent', '--seeds', slowSeed, '--no-dht', '-q'], { dir, timeoutMs: 90_000 });
  assert.equal(dl.code, 0, dl.stderr);
  assert.ok((await sameTree(path.join(cwd, 'album'), path.join(dir, 'album'))).same);
  assert.doesNotMatch(dl.stdout + dl.stderr, /ELIFECYCLE|> ct-monorepo/);
});

test('torrents as arguments: download --list/--select, info of a magnet, cat, seed', async () => {
  const list = await run(['download', 'album.torrent', '--list']);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(list.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).pop()), ['01.flac', '02.flac', 'cover.jpg', 'notes/readme.txt']);
  const dest = path.join(work, 'selected');
  const sel = await run(['download', 'album.torrent', '--select', '*.flac', '--exclude', '2', '--seeds', slowSeed, '--download-dir', dest, '--no-dht', '-q'], { timeoutMs: 90_000 });
  assert.equal(sel.code, 0, sel.stderr);
  assert.ok((await readFile(path.join(dest, 'album', '01.flac'))).equals(await readFile(path.join(cwd, 'album', '01.flac'))));
  assert.equal(await exists(path.join(dest, 'album', 'notes', 'readme.txt')), false, 'not selected, never created');
  const magnet = `magnet:?xt=urn:btih:${meta.infoHashHex}&dn=album&tr=${encodeURIComponent('udp://127.0.0.1:1/announce')}`;
  const mi = await run(['info', magnet, '--json']);
  assert.equal(mi.code, 0, mi.stderr);
  assert.deepEqual(JSON.parse(mi.stdout), { infoHash: meta.infoHashHex, name: 'album', trackers: [['udp://127.0.0.1:1/announce']], peers: [] });
  const cat = await sh(`ct cat album.torrent notes/readme.txt --seeds ${slowSeed} --no-dht | cmp - album/notes/readme.txt`);
  assert.equal(cat.code, 0, cat.stderr + cat.stdout);
});

test('ct seed refuses a folder holding none of the files, with a hint; runs with the shebang\'s V8 flag; prints the upload total on exit', async () => {
  const wrong = await run(['seed', 'album.torrent', '--download-dir', 'album', '--no-dht']);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /^ct: album holds none of the files of album \(looked for .*album\/album\/01\.flac\); album looks like the torrent's folder itself: use --download-dir /);
  const port = await freePort();
  const seeder = ctHere(['seed', 'album.torrent', '--listen', `127.0.0.1:${port}`, '--no-dht']);
  await seeder.waitFor(/seeding album .*: all 5\.0 MiB/, 30_000);
  // The shebang's V8 flag reached node (`env -S` split it): without it the young generation
  // grows to 16 MiB semi-spaces and a download's peak RSS by ~20 MiB.
  const argv = (await readFile(`/proc/${seeder.child.pid}/cmdline`, 'utf8')).split('\0');
  assert.ok(argv.includes('--max-semi-space-size=2'), argv.join(' '));
  seeder.kill('SIGTERM');
  assert.equal(await seeder.waitExit(15_000), 0);
  assert.match(seeder.stdout, /^uploaded 0 B in 0:\d\d$/m);
});

test('config: ct seed takes download_dir and listen from the file, CT_SESSION_LISTEN beats the file, --listen beats both; a bad key stops it in one line', async () => {
  const elsewhere = path.join(work, 'cfg-run');
  await mkdir(elsewhere, { recursive: true });
  const file = path.join(work, 'ct.toml');
  const ports = [await freePort(), await freePort(), await freePort()];
  await writeFile(file, `# the album lives in the user's folder\n[session]\nlisten = "127.0.0.1:${ports[0]}"\ndownload_dir = "${cwd}"\ndht = false\n`);
  const torrent = path.join(cwd, 'album.torrent');
  const runs: [NodeJS.ProcessEnv, string[], number][] = [
    [{}, [], ports[0]],
    [{ CT_SESSION_LISTEN: `127.0.0.1:${ports[1]}` }, [], ports[1]],
    [{ CT_SESSION_LISTEN: `127.0.0.1:${ports[1]}` }, ['--listen', `127.0.0.1:${ports[2]}`], ports[2]],
  ];
  for (const [env, args, port] of runs) {
    // Run from another folder: the data is found only through the file's download_dir.
    const seeder = ctHere(['seed', torrent, '--config', file, ...args], { dir: elsewhere, env });
    await seeder.waitFor(new RegExp(`seeding album \\(${meta.infoHashHex}\\) on 127\\.0\\.0\\.1:${port}: all 5\\.0 MiB`), 30_000);
    seeder.kill('SIGTERM');
    assert.equal(await seeder.waitExit(15_000), 0);
  }
  const shown = await run(['config', '--config', file], { env: { CT_SESSION_LISTEN: `127.0.0.1:${ports[1]}` } });
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, new RegExp(`^listen = "127\\.0\\.0\\.1:${ports[1]}"  # env CT_SESSION_LISTEN$`, 'm'));
  assert.ok(shown.stdout.includes(`\ndownload_dir = "${cwd}"  # ${file}:4\n`), shown.stdout);
  // Every ct of the tests runs with CT_NO_DHT=1, the older spelling of CT_SESSION_DHT=false.
  assert.match(shown.stdout, /^dht = false  # env CT_NO_DHT$/m);
  const bad = path.join(work, 'bad.toml');
  await writeFile(bad, '[session]\nlisten = "127.0.0.1:1"\n[mount]\nread_timeout = "soon"\n');
  const refused = await run(['seed', torrent, '--config', bad]);
  assert.equal(refused.code, 2);
  assert.equal(refused.stderr, `ct: ${bad}:4: bad value for mount.read_timeout: expected a positive number of seconds\n`);
});

test('typos get suggestions, bad values name the option, usage errors exit 2, failures exit 1', async () => {
  const cases: [string[], RegExp][] = [
    [['downlod'], /^ct: unknown command 'downlod' \(did you mean download\?\); see ct --help$/],
    [['download', 'album.torrent', '--seedz', 'x'], /^ct: unknown option '--seedz' \(did you mean one of --seed, --seeds\?\); see ct download --help$/],
    [['demo', '--size', '-5'], /--size <MiB>' argument '-5' is invalid: expected a number of MiB/],
    [['create', 'album', '-o', 'x.torrent', '--piece-length', '16q'], /--piece-length <bytes>' argument '16q' is invalid: expected a size such as 16384, 16k/],
    [['download', 'album.torrent', '--timeout', '-5'], /--timeout <seconds>' argument '-5' is invalid: expected a positive number of seconds/],
    [['download', 'album.torrent', '--seeds', ''], /--seeds <host:port,...>' argument '' is invalid/],
    [['stream', 'album.torrent', '--http', 'x8889'], /--http <\[host:\]port>' argument 'x8889' is invalid: expected PORT or HOST:PORT/],
    [['download', 'album.torrent', '--json', '--quiet'], /cannot be used with option '-q, --quiet'/],
    [['create', 'album', '-o', 'missing-dir/x.torrent'], /^ct: cannot write missing-dir\/x\.torrent: no such folder /],
    [['info', "magnet:?xt=urn:btih:nothex"], /magnet/],
  ];
  for (const [args, pattern] of cases) {
    const r = await run(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line: ${r.stderr}`);
    assert.match(lines[0], pattern);
  }
  // ct mount checks its mount point before libfuse would complain in its own words.
  await mkdir(path.join(cwd, 'full'), { recursive: true });
  await writeFile(path.join(cwd, 'full', 'x'), 'x');
  for (const [args, pattern] of [
    [['mount', 'nowhere', 'album.torrent'], /^ct: \/.*\/nowhere does not exist \(create it, or add --mkdir\)$/],
    [['mount', 'full', 'album.torrent'], /^ct: \/.*\/full is not empty \(a mount would hide what is in it\): use an empty folder$/],
  ] as [string[], RegExp][]) {
    const r = await run(args);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr.trim(), pattern);
  }
  assert.equal(await exists(path.join(cwd, 'nowhere')), false, 'not created without --mkdir');
  // create -o - writes the torrent to stdout.
  const stdout = await sh('ct create album/cover.jpg -o - > cover.torrent');
  assert.equal(stdout.code, 0, stdout.stderr);
  assert.equal(parseMetainfo(await readFile(path.join(cwd, 'cover.torrent'))).name, 'cover.jpg');
  // Not a usage error: exit 1, and the message says what was tried.
  const lonely = await run(['download', 'album.torrent', '--seeds', `127.0.0.1:${await freePort()}`, '--timeout', '2', '--download-dir', path.join(work, 'lonely'), '--no-dht']);
  assert.equal(lonely.code, 1);
  assert.match(lonely.stderr, /^ct: no peer reachable within 2 s \(1 could not be connected to; no trackers, DHT off\)\n$/);
});

test('--timeout also ends a download whose connected peers send nothing', async () => {
  const silent = new HostilePeer('silent', meta.infoHash, meta.pieceCount, '127.0.0.2');
  hostiles.push(silent);
  await silent.listen();
  const r = await run(['download', 'album.torrent', '--seeds', silent.address, '--timeout', '2', '--download-dir', path.join(work, 'stalled'), '--no-dht']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ct: no data from any peer for 2 s \(1 connected, none sent what is missing; no trackers, DHT off\)\n$/);
});

for (const columns of [80, 40]) {
  test(`under a ${columns}-column terminal the bar is redrawn in place, never wider than the terminal, and ends in one summary line`, async () => {
    const dest = path.join(work, `tty-${columns}`);
    const r = await sh(`/usr/bin/python3 ${PTY} ${columns} 24 -- ct download album.torrent --seeds ${slowSeed} --download-dir ${dest} --no-dht`);
    assert.equal(r.code, 0, r.stdout);
    // eslint-disable-next-line no-control-regex
    const out = r.stdout.replace(/\r\n/g, '\n'); // the pty turns \n into \r\n
    const frames = out.split('\r').slice(1).map((f) => f.replace(/\x1b\[K/g, '').split('\n')[0]).filter((f) => f && !/^done: /.test(f));
    assert.ok(frames.length >= 3, `redrawn several times: ${frames.length}`);
    for (const f of frames) assert.ok(f.length < columns, `${f.length} columns: "${f}"`);
    if (columns >= 80) assert.ok(frames.some((f) => /iB\/s down/.test(f)), 'a rate in KiB/s or MiB/s (the units of the sizes)');
    // The bar is cleared and one summary line is left.
    const last = (out.split('\r').pop() ?? '').replace(/\x1b\[K/g, '').trim();
    assert.match(last, /^done: album 5\.0 MiB verified; downloaded 5\.0 MiB in [\d.]+ s \([\d.]+ [KM]iB\/s\)/);
  });
}

test('piped: a line every second; --json: plausible rates and ETA from the first second', async () => {
  const piped = await run(['download', 'album.torrent', '--seeds', slowSeed, '--download-dir', path.join(work, 'piped'), '--no-dht'], { timeoutMs: 90_000 });
  assert.equal(piped.code, 0, piped.stderr);
  const progress = piped.stdout.split('\n').filter((l) => /^(downloading|done) /.test(l));
  assert.ok(progress.length >= 2, `one line per second: ${piped.stdout}`);
  assert.match(piped.stdout.trim().split('\n').pop() ?? '', /^done: /);
  const json = await run(['download', 'album.torrent', '--seeds', slowSeed, '--download-dir', path.join(work, 'json'), '--no-dht', '--json'], { timeoutMs: 90_000 });
  assert.equal(json.code, 0, json.stderr);
  const objects = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string | null>);
  assert.ok(objects.every((o) => typeof o.type === 'string'), 'only JSON');
  const first = objects.find((o) => o.type === 'progress' && (o.downloaded as number) > 0);
  assert.ok(first, 'a progress object with data');
  const average = (first.downloaded as number) / (first.elapsed as number);
  assert.ok((first.downloadRate as number) >= 0.3 * average, `first rate ${first.downloadRate} vs average so far ${average}`);
  assert.notEqual(first.eta, null);
  assert.equal(objects[objects.length - 1].type, 'done');
  const demo = await run(['demo', '--size', '8', '--json']);
  assert.equal(demo.code, 0, demo.stderr);
  const types = demo.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
  assert.ok(types.includes('started') && types.includes('done'), types.join(','));
});

test('Ctrl-C during a download says where it stopped and that rerunning resumes', async () => {
  const p = ctHere(['download', 'album.torrent', '--seeds', slowSeed, '--download-dir', path.join(work, 'interrupted'), '--no-dht']);
  await p.waitFor(/downloading [1-9]/, 30_000);
  p.kill('SIGINT');
  assert.equal(await p.waitExit(15_000), 130);
  assert.match(p.stderr, /ct: stopped at [\d.]+% \([\d.]+ [KM]iB of 5\.0 MiB verified\); run the same command again to resume/);
});

test('help: ct help lists the commands; every option README documents is in that command\'s --help; completion scripts', async () => {
  const help = await run(['help']);
  assert.equal(help.code, 0);
  for (const c of ['download', 'seed', 'cat', 'stream', 'mount', 'umount', 'status', 'serve', 'add', 'rm', 'ls', 'files', 'pause', 'resume', 'select', 'deselect', 'limit', 'create', 'info', 'config', 'demo', 'completion']) assert.match(help.stdout, new RegExp(`^  ${c} `, 'm'));
  assert.match(help.stdout, /CT_DEBUG/);
  assert.match(help.stdout, /CT_RUNTIME_DIR/);
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
  const sections = readme.split(/^### /m).slice(1).filter((s) => s.startsWith('`ct ')).map((s) => s.split(/^## /m)[0]);
  assert.ok(sections.length >= 8, 'README has its command sections');
  for (const section of sections) {
    const commands = [...section.split('\n')[0].matchAll(/`ct (\w+)`/g)].map((m) => m[1]);
    const helps = await Promise.all(commands.map((c) => run([c, '--help'])));
    for (const h of helps) assert.equal(h.code, 0);
    for (const h of helps) assert.match(h.stdout, /Examples:\n {2}\S/, 'examples');
    // ct's options, not those of other tools shown beside it (getfattr --only-values).
    const text = section.split('\n').filter((l) => !/getfattr|fusermount/.test(l)).join('\n');
    const options = new Set([...text.matchAll(/(?<![\w-])--([a-z][a-z-]+)/g)].map((m) => m[1]));
    for (const o of options) {
      assert.ok(helps.some((h) => h.stdout.includes(`--${o}`)), `README documents --${o} under ${commands.join('/')}, but no --help lists it`);
    }
  }
  const bash = await run(['completion', 'bash']);
  assert.equal((await sh(`bash -n <<'EOF'\n${bash.stdout}\nEOF`)).code, 0, 'the bash script parses');
  const completed = await sh(`source <(ct completion bash); COMP_WORDS=(ct down); COMP_CWORD=1; _ct; echo "\${COMPREPLY[@]}"; COMP_WORDS=(ct download --se); COMP_CWORD=2; _ct; echo "\${COMPREPLY[@]}"`);
  const [commands, options] = completed.stdout.trim().split('\n');
  assert.equal(commands, 'download');
  assert.deepEqual(options.split(' ').sort(), ['--seed', '--seeds', '--select']);
  const zsh = await run(['completion', 'zsh']);
  assert.match(zsh.stdout, /^#compdef ct/);
});
