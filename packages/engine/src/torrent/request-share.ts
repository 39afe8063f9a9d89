/**
 * How the budget of open pieces is shared among the peers we download from. Every requested
 * block holds its piece's buffer open until the piece is hashed and written, so the budget
 * (TorrentOptions.pieceBufferBytes) bounds the requests of all peers together. Without shares
 * the first peers to refill took all of it: from six seeders capped at 40 MB/s, three peers held
 * ~990 requests each and the other three none, and the download ran at the three's 120 MB/s
 * (bench/RESULTS.md). Pure.
 */

/**
 * The most requests one peer may keep out: an equal share of the budget among the peers
 * currently downloading (unchoked and interesting), never less than one piece's blocks so that
 * every peer can always complete a piece. Infinity when the budget is unbounded.
 */
export function requestShare(budgetPieces: number, blocksPerPiece: number, downloadingPeers: number): number {
  if (!Number.isFinite(budgetPieces)) return Infinity;
  return Math.max(blocksPerPiece, Math.floor((budgetPieces * blocksPerPiece) / Math.max(1, downloadingPeers)));
}
