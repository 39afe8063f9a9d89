/**
 * The torrent list: one row per torrent, updated in place from the event stream (rows are kept by
 * id, so a button under the pointer is not replaced between a press and its release), sortable by
 * any column, narrowed by a filter box over name, category and state.
 */
import { api, type TorrentView } from './api.js';
import { bar, fill, h, setBar } from './dom.js';
import { bytes, eta, rate } from './format.js';
import { confirmRemove, showError } from './dialogs.js';
import { store } from './store.js';

interface Column {
  key: string;
  title: string;
  value(t: TorrentView): string | number;
  cls?: string;
}

const COLUMNS: Column[] = [
  { key: 'name', title: 'Name', value: (t) => t.name.toLowerCase() },
  { key: 'category', title: 'Category', value: (t) => t.category ?? '' },
  { key: 'state', title: 'State', value: (t) => t.state },
  { key: 'progress', title: 'Progress', value: (t) => t.progress },
  { key: 'down', title: 'Down', value: (t) => t.downloadRate, cls: 'num' },
  { key: 'up', title: 'Up', value: (t) => t.uploadRate, cls: 'num' },
  { key: 'peers', title: 'Peers (seeds)', value: (t) => t.peers, cls: 'num' },
  { key: 'eta', title: 'ETA', value: (t) => remainingSeconds(t), cls: 'num' },
  { key: 'size', title: 'Size', value: (t) => t.size, cls: 'num' },
];

function remainingSeconds(t: TorrentView): number {
  const left = t.size - t.verified;
  return left > 0 && t.downloadRate > 0 ? left / t.downloadRate : Number.POSITIVE_INFINITY;
}

interface Row {
  tr: HTMLTableRowElement;
  /** The view it shows: an unchanged torrent keeps its object, and its row is not touched. */
  view?: TorrentView;
  link: HTMLAnchorElement;
  error: HTMLElement;
  cells: Record<string, HTMLElement>;
  progress: HTMLElement;
  toggle: HTMLButtonElement;
}

export function listView(root: HTMLElement): () => void {
  let sortKey = localStorage.getItem('ct.sort') ?? 'name';
  let descending = localStorage.getItem('ct.sortDesc') === '1';
  const rows = new Map<string, Row>();
  const filter = h('input', { type: 'search', id: 'filter', placeholder: 'Filter by name, category or state', 'aria-label': 'filter', oninput: () => render() });
  const headRow = h('tr');
  const tbody = h('tbody');
  const empty = h('p', { class: 'empty' }, 'No torrents yet: add one with a magnet link, a URL or a .torrent file.');
  const drawHead = () => fill(headRow, ...COLUMNS.map((c) => h('th', {
    class: `${c.cls ?? ''} sortable${c.key === sortKey ? (descending ? ' desc' : ' asc') : ''}`, 'data-key': c.key,
    onclick: () => {
      descending = c.key === sortKey ? !descending : false;
      sortKey = c.key;
      localStorage.setItem('ct.sort', sortKey);
      localStorage.setItem('ct.sortDesc', descending ? '1' : '0');
      drawHead();
      render();
    },
  }, c.title)), h('th', {}, ''));
  drawHead();
  fill(root, h('section', { class: 'list' }, h('div', { class: 'toolbar' }, filter), h('table', { id: 'torrents' }, h('thead', {}, headRow), tbody), empty));

  function rowFor(t: TorrentView): Row {
    let row = rows.get(t.id);
    if (row) return row;
    const cells: Record<string, HTMLElement> = {};
    const progress = bar(0);
    const toggle = h('button', { type: 'button', class: 'small', onclick: () => {
      const cur = store.torrents.get(t.id);
      (cur?.paused ? api.resume(t.id) : api.pause(t.id)).then((v) => store.put(v), showError);
    } });
    const remove = h('button', { type: 'button', class: 'small danger', 'data-action': 'remove', onclick: () => confirmRemove(store.torrents.get(t.id) ?? t) }, 'Remove');
    const tr = h('tr', { 'data-id': t.id });
    for (const c of COLUMNS) {
      cells[c.key] = h('td', { class: c.cls ?? '' });
      tr.append(cells[c.key]);
    }
    cells.progress.append(progress);
    const link = h('a', { href: `#/t/${t.id}`, class: 'name' });
    const error = h('div', { class: 'error-text' });
    cells.name.append(link, error);
    tr.append(h('td', { class: 'actions' }, toggle, remove));
    row = { tr, link, error, cells, progress, toggle };
    rows.set(t.id, row);
    return row;
  }

  function update(row: Row, t: TorrentView): void {
    if (row.view === t) return;
    row.view = t;
    row.link.textContent = t.name;
    row.error.textContent = t.error ?? '';
    row.cells.category.textContent = t.category ?? '';
    row.cells.state.textContent = t.state;
    row.cells.state.className = `state state-${t.state}`;
    setBar(row.progress, t.progress);
    row.cells.down.textContent = rate(t.downloadRate);
    row.cells.up.textContent = rate(t.uploadRate);
    row.cells.peers.textContent = t.peers > 0 ? `${t.peers} (${t.seeds})` : '';
    row.cells.eta.textContent = eta(t.size - t.verified, t.downloadRate);
    row.cells.size.textContent = t.size > 0 ? bytes(t.size) : '';
    row.toggle.textContent = t.paused ? 'Resume' : 'Pause';
    row.toggle.dataset.action = t.paused ? 'resume' : 'pause';
  }

  function render(): void {
    const q = filter.value.trim().toLowerCase();
    const col = COLUMNS.find((c) => c.key === sortKey) ?? COLUMNS[0];
    const all = [...store.torrents.values()];
    const shown = all.filter((t) => !q || t.name.toLowerCase().includes(q) || (t.category ?? '').toLowerCase().includes(q) || t.state.includes(q));
    shown.sort((a, b) => {
      const x = col.value(a);
      const y = col.value(b);
      const c = x < y ? -1 : x > y ? 1 : a.name.localeCompare(b.name);
      return descending ? -c : c;
    });
    for (const [id, row] of rows) if (!store.torrents.has(id)) { row.tr.remove(); rows.delete(id); }
    const order = shown.map((t) => {
      const row = rowFor(t);
      update(row, t);
      return row.tr;
    });
    // Moves rows only when the order changed (a moved row loses a press in progress).
    const current = [...tbody.children];
    if (current.length !== order.length || current.some((el, i) => el !== order[i])) tbody.replaceChildren(...order);
    empty.hidden = all.length > 0;
  }

  render();
  return store.watch(render);
}
