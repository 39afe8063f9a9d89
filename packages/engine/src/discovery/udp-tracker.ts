/**
 * One announce to a UDP tracker (BEP 15): a connect exchange for a connection id (valid a
 * minute, cached per tracker), then the announce, each retried with doubling timeouts. Ours, for
 * the reasons in http-tracker.ts; in addition bittorrent-tracker's UDP client read IPv6 trackers'
 * 18-byte peers as IPv4 ones. Replies are checked for length, action and transaction id; a tracker
 * error (action 3) becomes a TrackerError with its message.
 */
import { randomBytes } from 'node:crypto';
import * as dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIPv6 } from 'node:net';
import { TrackerError } from '../errors.js';
import { type AnnounceParams, type AnnounceResult } from './announce.js';
import { parseCompactPeers } from '../util/compact-peers.js';

const PROTOCOL_ID = 0x41727101980n;
const ACTION = { connect: 0, announce: 1, error: 3 } as const;
const EVENT = { completed: 1, started: 2, stopped: 3 } as const;
const CONNECTION_ID_MS = 60_000;

export interface UdpTrackerOptions {
  /** First timeout of each exchange; doubles per retry (BEP 15 says 15 s; we retry sooner). */
  timeoutMs: number;
  tries: number;
}

export const DEFAULT_UDP_OPTIONS: UdpTrackerOptions = { timeoutMs: 2000, tries: 3 };

/** Connection ids by tracker URL. */
const connections = new Map<string, { id: Buffer; until: number }>();

export async function udpAnnounce(url: string, params: AnnounceParams, opts: UdpTrackerOptions = DEFAULT_UDP_OPTIONS): Promise<AnnounceResult> {
  const parsed = new URL(url);
  const port = Number(parsed.port);
  if (!port) throw new TrackerError(`UDP tracker URL without a port: ${url}`);
  let host = parsed.hostname.replace(/^\[|\]$/g, '');
  try {
    host = (await lookup(host)).address;
  } catch {
    throw new TrackerError(`cannot resolve ${parsed.hostname}`);
  }
  const v6 = isIPv6(host);
  const socket = dgram.createSocket(v6 ? 'udp6' : 'udp4');
  socket.on('error', () => undefined);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(port, host, () => { socket.off('error', reject); resolve(); });
    });
    let conn = connections.get(url);
    if (!conn || conn.until < Date.now()) {
      const reply = await exchange(socket, ACTION.connect, (tid) => {
        const b = Buffer.alloc(16);
        b.writeBigUInt64BE(PROTOCOL_ID, 0);
        b.writeUInt32BE(ACTION.connect, 8);
        tid.copy(b, 12);
        return b;
      }, 16, opts);
      conn = { id: Buffer.from(reply.subarray(8, 16)), until: Date.now() + CONNECTION_ID_MS };
      connections.set(url, conn);
    }
    const id = conn.id;
    const reply = await exchange(socket, ACTION.announce, (tid) => {
      const b = Buffer.alloc(98);
      id.copy(b, 0);
      b.writeUInt32BE(ACTION.announce, 8);
      tid.copy(b, 12);
      params.infoHash.copy(b, 16);
      params.peerId.copy(b, 36);
      b.writeBigUInt64BE(BigInt(params.downloaded), 56);
      b.writeBigUInt64BE(BigInt(params.left), 64);
      b.writeBigUInt64BE(BigInt(params.uploaded), 72);
      b.writeUInt32BE(params.event ? EVENT[params.event] : 0, 80);
      b.writeUInt32BE(0, 84); // our address: the one the packet comes from
      b.writeUInt32BE(params.key >>> 0, 88);
      b.writeInt32BE(params.numwant, 92);
      b.writeUInt16BE(params.port, 96);
      return b;
    }, 20, opts);
    return {
      interval: reply.readUInt32BE(8),
      leechers: reply.readUInt32BE(12),
      seeders: reply.readUInt32BE(16),
      // Over IPv6 a tracker answers with IPv6 peers (18 bytes each).
      peers: parseCompactPeers(reply.subarray(20), v6),
    };
  } catch (err) {
    if (err instanceof TrackerError) {
      if (/connection id/.test(err.message)) connections.delete(url);
      throw err;
    }
    throw new TrackerError(`UDP tracker failed: ${(err as Error).message}`);
  } finally {
    socket.close();
  }
}

/** Sends a request until a matching reply arrives, with doubling timeouts. */
function exchange(socket: dgram.Socket, action: number, build: (tid: Buffer) => Buffer, minLength: number, opts: UdpTrackerOptions): Promise<Buffer> {
  const tid = randomBytes(4);
  const request = build(tid);
  return new Promise((resolve, reject) => {
    let tries = 0;
    let timer: NodeJS.Timeout | undefined;
    const done = (err: Error | undefined, reply?: Buffer) => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      socket.off('error', onError);
      if (err) reject(err);
      else resolve(reply as Buffer);
    };
    const onMessage = (msg: Buffer) => {
      if (msg.length < 8 || !msg.subarray(4, 8).equals(tid)) return; // not ours: ignore
      const got = msg.readUInt32BE(0);
      if (got === ACTION.error) return done(new TrackerError(`tracker refused: ${msg.subarray(8, 508).toString('utf8') || 'no reason given'}`));
      if (got !== action) return done(new TrackerError(`tracker answered action ${got} to action ${action}`));
      if (msg.length < minLength) return done(new TrackerError(`tracker reply of ${msg.length} bytes is too short`));
      done(undefined, msg);
    };
    const send = () => {
      if (tries++ >= opts.tries) return done(new TrackerError('tracker unreachable: timed out'));
      socket.send(request, (err) => { if (err) done(new TrackerError(`tracker unreachable: ${err.message}`)); });
      timer = setTimeout(send, opts.timeoutMs * 2 ** (tries - 1));
    };
    // On a connected socket, an ICMP "port unreachable" arrives as ECONNREFUSED.
    const onError = (err: Error) => done(new TrackerError(`tracker unreachable: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    socket.on('message', onMessage);
    socket.on('error', onError);
    send();
  });
}
