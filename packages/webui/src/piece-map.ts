/**
 * A torrent's pieces drawn on a canvas, one cell per piece, coloured by state (the server's
 * piece map: `r` under a read, `v` verified, `d` downloading, `e` evicted by the cache, `.`
 * missing). Cells shrink as pieces grow in number, down to one pixel; beyond one pixel per piece
 * each cell shows the "most interesting" state among the pieces it covers.
 */
import { h } from './dom.js';

export const PIECE_COLOURS: Record<string, string> = { r: '#3b82f6', v: '#22a35a', d: '#e0b020', e: '#9b6bd6', '.': '#d9dde3' };
export const PIECE_NAMES: Record<string, string> = { v: 'verified', d: 'downloading', r: 'under a read', e: 'evicted', '.': 'missing' };
/** Which state a merged cell shows: reads first, then work in progress. */
const RANK: Record<string, number> = { r: 4, d: 3, e: 2, '.': 1, v: 0 };

export function pieceLegend(): HTMLElement {
  return h('ul', { class: 'legend' }, ...Object.entries(PIECE_NAMES).map(([k, name]) => {
    const swatch = h('span', { class: 'swatch' });
    swatch.style.background = PIECE_COLOURS[k];
    return h('li', {}, swatch, name);
  }));
}

export function drawPieceMap(canvas: HTMLCanvasElement, map: string): void {
  const width = Math.max(200, Math.floor(canvas.parentElement?.clientWidth ?? 800));
  const n = map.length;
  const cell = n === 0 ? 8 : Math.max(1, Math.min(12, Math.floor(Math.sqrt((width * 160) / n))));
  const cols = Math.max(1, Math.floor(width / cell));
  const cells = Math.min(n, cols * Math.ceil(Math.min(n, cols * Math.ceil(400 / cell)) / cols));
  const per = n / Math.max(1, cells);
  const rows = Math.max(1, Math.ceil(cells / cols));
  canvas.width = cols * cell;
  canvas.height = rows * cell;
  canvas.dataset.pieces = String(n);
  const g = canvas.getContext('2d');
  if (!g) return;
  g.clearRect(0, 0, canvas.width, canvas.height);
  for (let c = 0; c < cells; c++) {
    let state = 'v';
    const from = Math.floor(c * per);
    const to = Math.max(from + 1, Math.floor((c + 1) * per));
    for (let i = from; i < to && i < n; i++) if (RANK[map[i]] > RANK[state]) state = map[i];
    g.fillStyle = PIECE_COLOURS[state] ?? PIECE_COLOURS['.'];
    const x = (c % cols) * cell;
    const y = Math.floor(c / cols) * cell;
    g.fillRect(x, y, cell > 3 ? cell - 1 : cell, cell > 3 ? cell - 1 : cell);
  }
}
