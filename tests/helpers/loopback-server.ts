/**
 * The listening part shared by the scripted peers of the tests: a TCP server on its own loopback
 * address that tracks its sockets so close() ends them all.
 */
import { createServer, type Server, type Socket } from 'node:net';

export abstract class LoopbackServer {
  private server: Server | undefined;
  protected readonly sockets = new Set<Socket>();
  /** True once close() started: sockets closing now were not closed by the client. */
  protected closing = false;

  constructor(readonly host: string) {}

  protected abstract onConnection(socket: Socket): void;

  /**
   * Splits what the client sends into its 68-byte handshake and length-prefixed messages
   * (keep-alives skipped); each message is given without its length prefix.
   */
  protected readMessages(socket: Socket, onHandshake: () => void, onMessage: (msg: Buffer) => void): void {
    let buf = Buffer.alloc(0);
    let handshaken = false;
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!handshaken) {
        if (buf.length < 68) return;
        handshaken = true;
        buf = buf.subarray(68);
        onHandshake();
      }
      while (buf.length >= 4) {
        const len = buf.readUInt32BE(0);
        if (buf.length < 4 + len) break;
        const msg = buf.subarray(4, 4 + len);
        buf = buf.subarray(4 + len);
        if (len > 0) onMessage(msg);
      }
    });
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server = createServer((s) => {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.sockets.delete(s));
        this.onConnection(s);
      });
      this.server.once('error', reject);
      this.server.listen(0, this.host, () => resolve(this.port));
    });
  }

  private get port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
