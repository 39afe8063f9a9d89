/** Where a peer's address came from: the peer list ranks addresses by it. */
export type PeerSource = 'user' | 'magnet' | 'tracker' | 'pex' | 'dht' | 'incoming';
