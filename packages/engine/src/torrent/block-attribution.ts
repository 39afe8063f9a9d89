/**
 * Who sent the bad block? A piece that fails its hash check with blocks from several peers does
 * not say which of them lied, and striking every contributor bans innocent peers (a fast honest
 * seeder shares many pieces with a liar). Like libtorrent's smart ban, we fingerprint each block
 * of a failed multi-source piece; when the piece later passes, every peer whose recorded block
 * differs from the verified data is the liar, and everyone else is cleared. A failure with a
 * single contributor needs no detective work: that peer is banned at once.
 */
import { createHash } from 'node:crypto';
import { BLOCK_SIZE } from '../wire/messages.js';

interface Fingerprint { peer: string; block: number; sha1: Buffer }

export class BlockAttribution {
  private readonly records = new Map<number, Fingerprint[]>();

  /**
   * A piece failed. Returns the peer to ban right away (the sole contributor), if any; otherwise
   * remembers fingerprints of each peer's blocks until the piece passes.
   */
  pieceFailed(index: number, data: Buffer, owners: readonly (string | undefined)[]): string | undefined {
    const peers = new Set(owners.filter((o): o is string => o !== undefined));
    if (peers.size === 1) return [...peers][0];
    const list = this.records.get(index) ?? [];
    owners.forEach((peer, block) => {
      if (peer !== undefined) list.push({ peer, block, sha1: sha1(blockOf(data, block)) });
    });
    this.records.set(index, list);
    return undefined;
  }

  /** A piece passed: the peers whose earlier blocks differ from the verified data. */
  pieceVerified(index: number, data: Buffer): string[] {
    const list = this.records.get(index);
    if (!list) return [];
    this.records.delete(index);
    const liars = new Set<string>();
    for (const f of list) if (!f.sha1.equals(sha1(blockOf(data, f.block)))) liars.add(f.peer);
    return [...liars];
  }

  get pending(): number {
    return this.records.size;
  }
}

const blockOf = (data: Buffer, block: number) => data.subarray(block * BLOCK_SIZE, Math.min(data.length, (block + 1) * BLOCK_SIZE));
const sha1 = (b: Uint8Array) => createHash('sha1').update(b).digest();
