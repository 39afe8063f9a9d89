/**
 * A scripted client connection to a ct under test: opens TCP to it, can send a handshake, an
 * extension handshake and any raw message, and records what ct answers and whether ct closed the
 * connection. The hostile-peer and flood tests are built from it.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { bencodeEncode } from '@ct/engine';

export class RawPeer {
  readonly socket: Socket;
  /** Messages ct sent after its handshake (without length prefix; keep-alives skipped). */
  readonly messages: Buffer[] = [];
  handshakeReceived = false;
  closedByRemote = false;
  readonly closed: Promise<void>;
  readonly connected: Promise<void>;
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  constructor(host: string, port: number, opts: { localAddress?: string } = {}) {
    this.socket = connect({ host, port, localAddress: opts.localAddress });
    this.socket.on('error', () => undefined);
    this.connected = new Promise((resolve) => this.socket.once('connect', () => resolve()));
    let ending = false;
    this.closed = new Promise((resolve) => this.socket.once('close', () => { this.closedByRemote = !ending; this.wake(); resolve(); }));
    this.end = () => { ending = true; this.socket.destroy(); };
    this.socket.on('data', (d: Buffer) => this.onData(d));
  }

  /** Closes from our side. */
  readonly end: () => void;

  handshake(infoHash: Buffer, opts: { extended?: boolean; fast?: boolean } = {}): void {
    const hs = Buffer.alloc(68);
    hs[0] = 19;
    hs.write('BitTorrent protocol', 1, 'latin1');
    if (opts.extended ?? true) hs[25] |= 0x10;
    if (opts.fast ?? true) hs[27] |= 0x04;
    infoHash.copy(hs, 28);
    Buffer.concat([Buffer.from('-ZZ0000-'), randomBytes(12)]).copy(hs, 48);
    this.socket.write(hs);
  }

  /** Our BEP 10 handshake: which ids ct must use to write to us. */
  extendedHandshake(m: Record<string, number> = { ut_metadata: 3, ut_pex: 4 }): void {
    this.extended(0, bencodeEncode({ m, v: 'raw-peer' }));
  }

  /** An extended message (id 20) with the given extension id and raw payload. */
  extended(extId: number, payload: Buffer): void {
    this.send(20, payload, extId);
  }

  send(id: number, payload: Buffer = Buffer.alloc(0), extId?: number): void {
    const head = Buffer.alloc(extId === undefined ? 5 : 6);
    head.writeUInt32BE(head.length - 4 + payload.length, 0);
    head[4] = id;
    if (extId !== undefined) head[5] = extId;
    this.socket.write(Buffer.concat([head, payload]));
  }

  /** Resolves when `cond` holds, false after `timeoutMs` (or when the connection closed first). */
  async until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0 || this.socket.destroyed) return cond();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
    return true;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    if (!this.handshakeReceived) {
      if (this.buf.length < 68) return;
      this.handshakeReceived = true;
      this.buf = this.buf.subarray(68);
    }
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (this.buf.length < 4 + len) break;
      if (len > 0) this.messages.push(Buffer.from(this.buf.subarray(4, 4 + len)));
      this.buf = this.buf.subarray(4 + len);
    }
    this.wake();
  }
}
