/**
 * bench/wire: receiving piece messages over TCP loopback with bittorrent-protocol 5 (the founders'
 * choice) and with ct's own FrameParser/PeerWire, in one run. A worker thread sends the same
 * stream of 16 KiB piece messages to each; we report MB/s and receiver CPU. A second round sends a
 * 2 GiB length prefix followed by junk and reports how much each receiver buffers.
 * Usage: pnpm bench:wire [--mib N]
 */
import { createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import Protocol from 'bittorrent-protocol';
import { PeerWire } from '../packages/engine/src/wire/peer-wire.js';
import { encodeHandshake, encodePieceHeader } from '../packages/engine/src/wire/messages.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '2048' } } });
const totalBytes = Number(values.mib) * 1024 * 1024;
const infoHash = Buffer.alloc(20, 1);

const SENDER = `
const { workerData, parentPort } = require('node:worker_threads');
const net = require('node:net');
const { port, chunk, handshake, total, hostile } = workerData;
const s = net.connect(port, '127.0.0.1', () => {
  s.write(Buffer.from(handshake));
  if (hostile) s.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 7]));
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      sent += chunk.byteLength;
      if (!s.write(Buffer.from(chunk))) return s.once('drain', pump);
    }
    s.end();
  };
  pump();
});
s.on('error', () => {});
s.on('close', () => parentPort.postMessage('closed'));
`;

function pieceStream(): Buffer {
  const block = Buffer.alloc(16384, 7);
  const parts: Buffer[] = [];
  for (let i = 0; i < 64; i++) parts.push(encodePieceHeader(i, 0, block.length), block);
  return Buffer.concat(parts); // ~1 MiB of messages
}

type Receiver = (socket: Socket, onBytes: (n: number) => void) => { buffered(): number };

const receivers: Record<string, Receiver> = {
  'bittorrent-protocol 5': (socket, onBytes) => {
    const wire = new Protocol();
    socket.pipe(wire).pipe(socket);
    wire.on('piece', (_i: number, _o: number, buf: Uint8Array) => onBytes(buf.length));
    wire.on('handshake', () => wire.handshake(infoHash, Buffer.alloc(20, 2)));
    wire.on('error', () => undefined);
    return { buffered: () => (wire as unknown as { _bufferSize: number })._bufferSize };
  },
  'ct PeerWire': (socket, onBytes) => {
    const wire = new PeerWire(socket);
    wire.on('message', (m) => { if (m.type === 'piece') onBytes(m.block.length); });
    wire.on('close', () => undefined);
    return { buffered: () => 0 };
  },
};

async function round(name: string, hostile: boolean): Promise<{ mbps: number; cpu: number; buffered: number; rssGrowthMiB: number; seconds: number }> {
  let received = 0;
  let maxBuffered = 0;
  const rss0 = process.memoryUsage().rss;
  let rssMax = rss0;
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const done = new Promise<void>((resolve) => {
    server.on('connection', (socket) => {
      socket.on('error', () => undefined);
      const r = receivers[name](socket, (n) => { received += n; });
      const iv = setInterval(() => {
        maxBuffered = Math.max(maxBuffered, r.buffered());
        rssMax = Math.max(rssMax, process.memoryUsage().rss);
      }, 20);
      socket.on('close', () => { clearInterval(iv); resolve(); });
    });
  });
  const chunk = hostile ? Buffer.alloc(1 << 20, 0xab) : pieceStream();
  const worker = new Worker(SENDER, { eval: true, workerData: {
    port, chunk, total: hostile ? 32 * 1024 * 1024 : totalBytes, hostile,
    handshake: encodeHandshake(infoHash, Buffer.alloc(20, 3), { fast: false, extended: false, dht: false }),
  } });
  await done;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await worker.terminate();
  server.close();
  return { mbps: received / 1e6 / seconds, cpu: (cpu.user + cpu.system) / 1e6, buffered: maxBuffered, rssGrowthMiB: (rssMax - rss0) / 1048576, seconds };
}

console.log(`bench/wire: ${values.mib} MiB of 16 KiB piece messages over 127.0.0.1, ${new Date().toISOString()}`);
const results: Record<string, { mbps: number; cpu: number }> = {};
for (const name of Object.keys(receivers)) {
  await round(name, false); // warm-up
  const r = await round(name, false);
  results[name] = r;
  console.log(`${name.padEnd(24)} ${r.mbps.toFixed(0).padStart(6)} MB/s  receiver CPU ${r.cpu.toFixed(2)} s`);
}
const [a, b] = Object.values(results);
console.log(`ratio ct/bittorrent-protocol: rate ${(b.mbps / a.mbps).toFixed(2)}x, CPU per byte ${((b.cpu / b.mbps) / (a.cpu / a.mbps)).toFixed(2)}x`);
console.log('\nhostile: a 2 GiB length prefix, then 32 MiB of junk');
for (const name of Object.keys(receivers)) {
  const r = await round(name, true);
  console.log(`${name.padEnd(24)} buffered up to ${(r.buffered / 1048576).toFixed(0)} MiB, RSS grew ${r.rssGrowthMiB.toFixed(0)} MiB, CPU ${r.cpu.toFixed(2)} s, connection lasted ${r.seconds.toFixed(2)} s`);
}
process.exit(0);
