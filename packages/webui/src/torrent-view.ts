/**
 * One torrent's page: what it is and where (mount, WebDAV), its files with progress, priority and
 * a player for media (the browser's own, on the Range URL, so it seeks), its piece map, how peers
 * are found (trackers, DHT, PEX) and who is connected. Refreshed when the event stream says the
 * torrents changed, and every 2 s while it is open. Its controls (buttons, limit inputs, priority choices) are built once and
 * updated in place: a control replaced under the pointer or the keyboard loses what the user did.
 */
import { api, type PeerView, type TorrentDetail } from './api.js';
import { bar, fill, h, setBar } from './dom.js';
import { bytes, encodePath, eta, isAudio, isMedia, rate } from './format.js';
import { confirmRemove, showError } from './dialogs.js';
import { drawPieceMap, pieceLegend } from './piece-map.js';
import { store } from './store.js';

const PRIORITIES: [number, string][] = [[0, 'skip (only as read)'], [1, 'low'], [4, 'normal'], [7, 'high']];

interface FileRow {
  tr: HTMLTableRowElement;
  progress: HTMLElement;
  select: HTMLSelectElement;
}

export function torrentView(root: HTMLElement, id: string): () => void {
  /** The last detail read: what the controls act on. */
  let current: TorrentDetail | undefined;
  const title = h('h2', { id: 'torrent-name' });
  const facts = h('div', { class: 'facts' });
  const where = h('div');
  const toggle = h('button', { type: 'button', onclick: () => {
    if (!current) return;
    (current.paused ? api.resume(id) : api.pause(id)).then((v) => { store.put(v); void refresh(); }, showError);
  } });
  const remove = h('button', { type: 'button', class: 'danger', 'data-action': 'remove', onclick: () => { if (current) confirmRemove(current, () => { location.hash = '#/'; }); } });
  remove.textContent = 'Remove';
  const limitDown = h('input', { type: 'number', min: 0, step: 'any', placeholder: 'none', 'aria-label': 'download limit MB/s' });
  const limitUp = h('input', { type: 'number', min: 0, step: 'any', placeholder: 'none', 'aria-label': 'upload limit MB/s' });
  const limits = h('form', { class: 'limits inline', onsubmit: (ev: Event) => {
    ev.preventDefault();
    api.setLimits({ download: Math.round(Number(limitDown.value || 0) * 1e6), upload: Math.round(Number(limitUp.value || 0) * 1e6) }, id).then(() => refresh(), showError);
  } }, 'Limits (MB/s): down ', limitDown, ' up ', limitUp, h('button', { type: 'submit', class: 'small' }, 'Set'));
  const canvas = h('canvas', { id: 'piece-map', 'aria-label': 'piece map' });
  const files = h('tbody');
  const fileRows: FileRow[] = [];
  /** Whether the rows were built with links (a torrent that runs has URLs for its files). */
  let rowsLinked = false;
  const player = h('div', { id: 'player' });
  const trackers = h('div');
  const peers = h('tbody');
  fill(root, h('section', { class: 'torrent' }, h('div', { class: 'torrent-head' }, title, facts, where, h('div', { class: 'buttons' }, toggle, remove, limits)),
    h('h3', {}, 'Pieces'), h('div', { class: 'piece-box' }, canvas), pieceLegend(),
    h('h3', {}, 'Files'), player,
    h('table', { id: 'files' }, h('thead', {}, h('tr', {}, h('th', {}, 'Path'), h('th', { class: 'num' }, 'Size'), h('th', {}, 'Progress'), h('th', {}, 'Priority'), h('th', {}, ''))), files),
    h('h3', {}, 'Discovery'), trackers,
    h('h3', {}, 'Peers'),
    h('table', { id: 'peers' }, h('thead', {}, h('tr', {}, h('th', {}, 'Address'), h('th', {}, 'Client'), h('th', { class: 'num' }, 'Down'), h('th', { class: 'num' }, 'Up'), h('th', {}, 'Has'))), peers)));

  let busy = false;
  let gone = false;
  let limitsShown = false;
  const refresh = async () => {
    if (busy || gone) return;
    busy = true;
    try {
      const [d, p, pm] = await Promise.all([api.detail(id), api.peers(id).catch(() => [] as PeerView[]), api.pieces(id).catch(() => ({ map: '', pieceLength: 0 }))]);
      if (gone) return;
      current = d;
      drawHead(d);
      if (!limitsShown) {
        limitsShown = true;
        limitDown.value = d.limits.download ? String(d.limits.download / 1e6) : '';
        limitUp.value = d.limits.upload ? String(d.limits.upload / 1e6) : '';
      }
      drawFiles(d);
      drawPieceMap(canvas, pm.map);
      drawDiscovery(d);
      fill(peers, ...p.map((x) => h('tr', {}, h('td', {}, x.address), h('td', {}, x.client ?? ''), h('td', { class: 'num' }, rate(x.downloadRate)), h('td', { class: 'num' }, rate(x.uploadRate)), h('td', {}, bar(x.progress)))));
      if (p.length === 0) fill(peers, h('tr', {}, h('td', { colspan: 5, class: 'dim' }, 'no peer connected')));
    } catch (err) {
      if ((err as { status?: number }).status === 404) fill(root, h('p', {}, 'This torrent is not in the service any more. ', h('a', { href: '#/' }, 'Back to the list')));
      else showError(err);
      gone = true;
    } finally {
      busy = false;
    }
  };

  function drawHead(d: TorrentDetail): void {
    title.textContent = d.name;
    toggle.textContent = d.paused ? 'Resume' : 'Pause';
    toggle.dataset.action = d.paused ? 'resume' : 'pause';
    fill(facts,
      h('span', { class: `state state-${d.state}`, id: 'torrent-state' }, d.state), bar(d.progress),
      h('span', {}, `${bytes(d.verified)} of ${bytes(d.size)}`),
      h('span', {}, `down ${rate(d.downloadRate) || '0'}`), h('span', {}, `up ${rate(d.uploadRate) || '0'}`),
      h('span', {}, `${d.peers} peers, ${d.seeds} seeds`), d.downloadRate > 0 && d.verified < d.size ? h('span', {}, `ETA ${eta(d.size - d.verified, d.downloadRate)}`) : null,
      d.category ? h('span', {}, `category ${d.category}`) : null);
    const folder = d.pieceCount > 0 && (d.files.length > 1 || d.files[0]?.path.includes('/'));
    fill(where,
      h('div', { class: 'facts dim' }, h('span', {}, `infohash ${d.id}`), d.pieceCount ? h('span', {}, `${d.pieceCount} pieces of ${bytes(d.pieceLength)}`) : null),
      d.mountPath ? h('div', {}, 'In the mount: ', h('code', {}, d.mountPath)) : null,
      d.davPath ? h('div', {}, 'WebDAV: ', h('a', { href: `/dav${encodePath(d.davPath)}${folder ? '/' : ''}` }, `/dav${d.davPath}`)) : null,
      h('div', {}, 'Data in ', h('code', {}, d.downloadDir)),
      d.error ? h('p', { class: 'error-text' }, d.error) : null);
  }

  function drawFiles(d: TorrentDetail): void {
    const linked = d.files.some((f) => f.url);
    if (fileRows.length !== d.files.length || linked !== rowsLinked) {
      rowsLinked = linked;
      fileRows.length = 0;
      d.files.forEach((f, i) => {
        const select = h('select', { 'aria-label': `priority of ${f.path}`, onchange: () => api.priority(id, [String(i + 1)], Number(select.value)).then(() => refresh(), showError) },
          ...PRIORITIES.map(([p, name]) => h('option', { value: p }, name)));
        const play = isMedia(f.path) ? h('button', { type: 'button', class: 'small play', 'data-path': f.path, onclick: () => { const u = current?.files[i]?.url; if (u) playFile(u, f.path); } }, 'Play') : null;
        const progress = bar(0);
        const link = f.url ? h('a', { href: f.url, class: 'file-link' }, f.path) : f.path;
        fileRows.push({ tr: h('tr', {}, h('td', {}, link), h('td', { class: 'num' }, bytes(f.length)), h('td', {}, progress), h('td', {}, select), h('td', {}, play)), progress, select });
      });
      fill(files, ...fileRows.map((r) => r.tr));
      if (d.files.length === 0) fill(files, h('tr', {}, h('td', { colspan: 5, class: 'dim' }, 'its files are known once its metadata arrives')));
    }
    d.files.forEach((f, i) => {
      const row = fileRows[i];
      setBar(row.progress, f.progress);
      // Not while the user is choosing.
      if (document.activeElement !== row.select) row.select.value = String(nearest(f.priority));
    });
  }

  function playFile(url: string, path: string): void {
    const media = isAudio(path) ? h('audio', { controls: true, autoplay: true, src: url }) : h('video', { controls: true, autoplay: true, src: url, id: 'video' });
    fill(player, h('div', { class: 'player-head' }, h('strong', {}, path), h('button', { type: 'button', class: 'small', onclick: () => fill(player) }, 'Close')), media);
  }

  function drawDiscovery(d: TorrentDetail): void {
    const disc = d.discovery;
    if (!disc) return fill(trackers, h('p', { class: 'dim' }, 'not running'));
    fill(trackers,
      h('p', {}, `DHT: ${disc.dht.enabled ? `on, ${disc.dht.nodes} nodes, ${disc.dht.peersFound} peers found` : 'off'}; PEX: ${disc.pex ? 'on' : 'off (private torrent)'}`),
      disc.trackers.length === 0 ? h('p', { class: 'dim' }, 'no trackers') : h('table', { id: 'trackers' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Tracker'), h('th', {}, 'Tier'), h('th', {}, 'State'), h('th', { class: 'num' }, 'Peers'), h('th', { class: 'num' }, 'Seeders'), h('th', { class: 'num' }, 'Leechers'), h('th', {}, 'Message'))),
        h('tbody', {}, ...disc.trackers.map((t) => h('tr', {}, h('td', {}, t.url), h('td', {}, t.tier), h('td', {}, t.updating ? 'announcing' : t.state), h('td', { class: 'num' }, t.peers), h('td', { class: 'num' }, t.seeders ?? ''), h('td', { class: 'num' }, t.leechers ?? ''), h('td', { class: 'error-text' }, t.error ?? t.warning ?? ''))))));
  }

  void refresh();
  // On each change of the torrents (the event stream), and every 2 s besides: its peers and piece
  // map change without its view changing (the stream sends nothing while no view changes).
  const unwatch = store.watch(() => void refresh());
  const timer = setInterval(() => void refresh(), 2000);
  return () => { gone = true; unwatch(); clearInterval(timer); };
}

/** The choice shown for a priority the service holds (2, 3 show as low; 5, 6 as normal). */
function nearest(p: number): number {
  return p === 0 ? 0 : p <= 3 ? 1 : p <= 6 ? 4 : 7;
}
