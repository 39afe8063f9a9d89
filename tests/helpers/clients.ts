/**
 * Other BitTorrent clients from Debian, driven on loopback for interop tests: aria2c,
 * transmission-cli and qBittorrent-nox, plus Debian's opentracker for the clients that cannot be
 * given a peer address. Every process is a Proc (tracked by PID, ended by stopAll()); every
 * client has DHT, LSD, PEX, UPnP/NAT-PMP and encryption off, and binds to 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Proc, freePort } from './procs.js';

/** Debian's opentracker serves whitelisted infohashes only; it chroots into `dir`. */
export async function startOpentracker(dir: string, infoHashes: string[]): Promise<{ proc: Proc; port: number; announce: string }> {
  const port = await freePort();
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'whitelist'), infoHashes.map((h) => `${h}\n`).join(''));
  const proc = new Proc(spawn('/usr/bin/opentracker', ['-i', '127.0.0.1', '-p', String(port), '-P', String(port), '-d', dir, '-w', '/whitelist', '-u', 'nobody'], { stdio: 'pipe' }), 'opentracker');
  for (let i = 0; i < 100; i++) {
    if (await fetch(`http://127.0.0.1:${port}/stats`).then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, port, announce: `http://127.0.0.1:${port}/announce` };
}

/** aria2c on loopback only: no DHT, LPD, PEX or IPv6, quiet (the benchmarks use it too). */
export const ARIA2_LOOPBACK = ['--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false',
  '--disable-ipv6=true', '--console-log-level=warn', '--summary-interval=0'];
const ARIA2_QUIET = [...ARIA2_LOOPBACK, '--file-allocation=none'];

/** aria2c downloading a .torrent or a magnet into `dir`; exits 0 once complete (no seeding). */
export async function aria2Download(source: string, dir: string): Promise<Proc> {
  const port = await freePort();
  return new Proc(spawn('aria2c', [...ARIA2_QUIET, `--listen-port=${port}`, '--seed-time=0', '--bt-stop-timeout=60', '-d', dir, source], { stdio: 'pipe' }), 'aria2c download');
}

/** aria2c checking `dir` and seeding it on `port` until stopped. */
export async function aria2Seed(torrent: string, dir: string): Promise<{ proc: Proc; port: number }> {
  const port = await freePort();
  const proc = new Proc(spawn('aria2c', [...ARIA2_QUIET, `--listen-port=${port}`, '-V', '--seed-ratio=0.0', '-d', dir, torrent], { stdio: 'pipe' }), 'aria2c seed');
  return { proc, port };
}

/** transmission-cli on `torrent` with data in (or for) `dir`; `-v` verifies what is there first. */
export async function transmission(torrent: string, dir: string, configDir: string): Promise<{ proc: Proc; port: number }> {
  const port = await freePort();
  await mkdir(configDir, { recursive: true });
  await writeFile(path.join(configDir, 'settings.json'), JSON.stringify({
    'dht-enabled': false, 'lpd-enabled': false, 'pex-enabled': false, 'utp-enabled': false, 'port-forwarding-enabled': false,
    encryption: 0, 'bind-address-ipv4': '127.0.0.1', 'rpc-enabled': false, 'speed-limit-up-enabled': false,
  }));
  const proc = new Proc(spawn('transmission-cli', ['-v', '-g', configDir, '-w', dir, '-p', String(port), torrent], { stdio: 'pipe' }), 'transmission-cli');
  // It verifies its data before it listens (seconds on a loaded machine): a peer dialing it
  // before then is refused and backs off; once CI's ct gave up after 60 s of refusals.
  await listening(port, 30_000, proc);
  return { proc, port };
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port (each probe closes at once). */
async function listening(port: number, timeoutMs: number, proc: Proc): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (proc.exitCode !== null) throw new Error(`${proc.label} exited (${proc.exitCode}): ${proc.stderr.slice(-300)}`);
    if (Date.now() > deadline) throw new Error(`${proc.label} did not listen on ${port} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** qBittorrent-nox with its Web API on 127.0.0.1 (no login from localhost). */
export class QBittorrent {
  private constructor(readonly proc: Proc, readonly webPort: number, readonly port: number) {}

  static async start(profile: string, savePath: string): Promise<QBittorrent> {
    const webPort = await freePort();
    const port = await freePort();
    const conf = path.join(profile, 'qBittorrent', 'config');
    await mkdir(conf, { recursive: true });
    await writeFile(path.join(conf, 'qBittorrent.conf'), [
      '[LegalNotice]', 'Accepted=true', '',
      '[BitTorrent]', 'Session\\DHTEnabled=false', 'Session\\LSDEnabled=false', 'Session\\PeXEnabled=false',
      // 2: encryption off (qBittorrent otherwise tries MSE first and plaintext a second later).
      'Session\\Encryption=2', `Session\\Port=${port}`, 'Session\\Interface=lo', 'Session\\InterfaceName=lo',
      'Session\\InterfaceAddress=127.0.0.1', 'Session\\MultiConnectionsPerIp=true', `Session\\DefaultSavePath=${savePath}`,
      'Session\\BTProtocol=TCP', '',
      '[Network]', 'PortForwardingEnabled=false', '',
      '[Preferences]', `WebUI\\Port=${webPort}`, 'WebUI\\Address=127.0.0.1', 'WebUI\\LocalHostAuth=false',
      'WebUI\\CSRFProtection=false', 'WebUI\\HostHeaderValidation=false', '',
    ].join('\n'));
    const proc = new Proc(spawn('qbittorrent-nox', [`--profile=${profile}`], { stdio: 'pipe' }), 'qbittorrent-nox');
    const qb = new QBittorrent(proc, webPort, port);
    for (let i = 0; i < 200; i++) {
      if (await fetch(qb.url('app/version')).then((r) => r.ok, () => false)) return qb;
      if (proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`qbittorrent-nox did not start: ${proc.stderr.slice(-300)}`);
  }

  private url(api: string): string {
    return `http://127.0.0.1:${this.webPort}/api/v2/${api}`;
  }

  async add(torrentFile: Buffer, savePath: string): Promise<void> {
    const form = new FormData();
    form.append('torrents', new Blob([new Uint8Array(torrentFile)]), 'x.torrent');
    form.append('savepath', savePath);
    const r = await fetch(this.url('torrents/add'), { method: 'POST', body: form });
    if (!r.ok) throw new Error(`qBittorrent refused the torrent: ${r.status}`);
  }

  async addPeer(infoHash: string, address: string): Promise<void> {
    await fetch(this.url('torrents/addPeers'), { method: 'POST', body: new URLSearchParams({ hashes: infoHash, peers: address }) });
  }

  async progress(infoHash: string): Promise<{ progress: number; state: string } | undefined> {
    const list = await (await fetch(this.url(`torrents/info?hashes=${infoHash}`))).json() as { progress: number; state: string }[];
    return list[0];
  }
}
