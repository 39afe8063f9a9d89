/**
 * A bittorrent-dht node on 127.0.0.1 that records the infohashes it is queried about (get_peers,
 * announce_peer): what a ct session sent to the DHT, for unit and integration tests alike.
 */
import DHT from 'bittorrent-dht';

export interface RecordingDhtNode {
  port: number;
  /** Infohashes (hex) that queries to this node carried. */
  asked: Set<string>;
  destroy(): void;
}

export async function startRecordingDhtNode(): Promise<RecordingDhtNode> {
  const node = new DHT({ bootstrap: false });
  await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', () => resolve()));
  const asked = new Set<string>();
  // bittorrent-dht has no public hook for incoming queries; its k-rpc socket emits them.
  const rpc = (node as unknown as { _rpc: { on(e: 'query', f: (q: { a?: { info_hash?: Uint8Array } }) => void): void } })._rpc;
  rpc.on('query', (q) => { if (q.a?.info_hash) asked.add(Buffer.from(q.a.info_hash).toString('hex')); });
  return { port: node.address().port, asked, destroy: () => node.destroy() };
}
