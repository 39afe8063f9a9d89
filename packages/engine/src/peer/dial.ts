/**
 * Opening a connection to a peer for one torrent, the one way both the session (peers of a
 * torrent) and the metadata fetcher (a magnet's first phase) do it: TCP through the shared read
 * buffer, a connect timeout, our handshake once connected, and theirs checked (the right torrent,
 * not ourselves). How far an attempt got is reported, for the "no peer reachable" message.
 */
import { CtError } from '../errors.js';
import { parseHostPort } from '../util/address.js';
import type { HandshakeInfo } from '../wire/messages.js';
import { PeerWire, connectWithSharedReads, type PeerWireOptions } from '../wire/peer-wire.js';

export type DialOutcome =
  | 'unreachable' // TCP never connected (refused, timed out, no route)
  | 'handshake-closed' // connected, then the peer closed before answering our handshake
  | 'handshake-silent' // connected, but no handshake came back in time
  | 'refused' // handshake answered, then refused (another torrent, ourselves, no room)
  | 'no-slot'; // we had no connection slot to try

export interface DialRequest {
  address: string;
  infoHash: Buffer;
  peerId: Buffer;
  wire: PeerWireOptions;
  connectTimeoutMs: number;
}

export interface DialHandlers {
  /** The peer answered for this torrent: keep the wire (true) or refuse it (false: it is closed). */
  onHandshake(wire: PeerWire, hs: HandshakeInfo): boolean;
  /** The attempt ended before a kept handshake, and how far it got. */
  onFailed(outcome: DialOutcome, reason: Error): void;
  /** The address is our own (a tracker listed us too). */
  onSelf?(): void;
}

export function dialPeer(req: DialRequest, handlers: DialHandlers): PeerWire {
  const { host, port } = parseHostPort(req.address);
  const socket = connectWithSharedReads(host, port);
  socket.on('error', () => undefined);
  socket.setTimeout(req.connectTimeoutMs, () => socket.destroy(new Error('connect timeout')));
  const wire = new PeerWire(socket, req.wire);
  let kept = false;
  let stage: 'connecting' | 'handshaking' | 'answered' = 'connecting';
  socket.once('connect', () => {
    socket.setTimeout(0);
    stage = 'handshaking';
    wire.sendHandshake(req.infoHash, req.peerId, { fast: true, extended: true, dht: false });
  });
  wire.once('handshake', (hs) => {
    stage = 'answered';
    if (hs.peerId.equals(req.peerId)) {
      handlers.onSelf?.();
      wire.destroy(new CtError('EPROTOCOL', 'that is ourselves'));
      return;
    }
    if (!hs.infoHash.equals(req.infoHash)) {
      wire.destroy(new CtError('EPROTOCOL', 'peer answered for another torrent'));
      return;
    }
    kept = handlers.onHandshake(wire, hs);
    if (!kept) wire.destroy(new CtError('EPEER_EVICTED', 'refused'));
  });
  wire.once('close', (reason) => {
    if (kept) return;
    const outcome: DialOutcome = stage === 'connecting' ? 'unreachable'
      : stage === 'answered' ? 'refused'
      : reason instanceof CtError && reason.code === 'ETIMEOUT' ? 'handshake-silent' : 'handshake-closed';
    handlers.onFailed(outcome, reason);
  });
  return wire;
}
