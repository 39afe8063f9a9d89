/**
 * The DHT's UDP socket, with our strict bencode check in front of bittorrent-dht. Its decoder (the
 * `bencode` 2.x package inside k-rpc-socket) loops forever on the 15-byte datagram
 * `d-4294967295:ee` (measured): one packet from anyone would hang the process. Datagrams that are
 * not exactly one canonical bencoded dictionary of a sane size never reach it.
 */
import * as dgram from 'node:dgram';
import { checkBencode } from '../metainfo/bencode.js';

/** KRPC messages are small (a `nodes` reply is ~400 bytes); anything this big is not one. */
const MAX_DATAGRAM = 8 * 1024;
const D = 0x64;

export function isAcceptableKrpc(buf: Uint8Array): boolean {
  if (buf.length === 0 || buf.length > MAX_DATAGRAM || buf[0] !== D) return false;
  try {
    checkBencode(buf);
    return true;
  } catch {
    return false;
  }
}

export class StrictUdpSocket extends dgram.Socket {
  /** Datagrams dropped before the DHT saw them (for status and tests). */
  dropped = 0;

  constructor() {
    // dgram.Socket takes the same options object as createSocket(); its typings only declare
    // EventEmitter's options.
    const options: dgram.SocketOptions = { type: 'udp4' };
    super(options as ConstructorParameters<typeof dgram.Socket>[0]);
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'message' && !isAcceptableKrpc(args[0] as Uint8Array)) {
      this.dropped++;
      return false;
    }
    return super.emit(event, ...args);
  }
}
