/**
 * The web page of `ct serve`: a hash router over three views (the list, a torrent, the session),
 * the add dialog, and the event stream that keeps the store current. Served by ct itself
 * (packages/cli/src/service/web-assets.ts); talks only to the server it came from.
 */
import { api, onTokenNeeded, subscribe } from './api.js';
import { acceptDrops, openAddDialog } from './add-dialog.js';
import { askToken, showError } from './dialogs.js';
import { fill, h } from './dom.js';
import { rate } from './format.js';
import { listView } from './list-view.js';
import { sessionView } from './session-view.js';
import { store } from './store.js';
import { torrentView } from './torrent-view.js';

onTokenNeeded(askToken);
const view = document.getElementById('view')!;
const rates = document.getElementById('rates')!;
let leave: (() => void) | undefined;

function route(): void {
  leave?.();
  const hash = location.hash || '#/';
  const one = /^#\/t\/([0-9a-f]{40})$/.exec(hash);
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.getAttribute('href') === (hash === '#/session' ? '#/session' : '#/'));
  if (one) leave = torrentView(view, one[1]);
  else if (hash === '#/session') leave = sessionView(view);
  else leave = listView(view);
}

store.watch(() => {
  let down = 0;
  let up = 0;
  for (const t of store.torrents.values()) { down += t.downloadRate; up += t.uploadRate; }
  fill(rates, h('span', { class: store.connected ? 'live' : 'offline', title: store.connected ? 'live updates' : 'reconnecting' }, store.connected ? '●' : '○'), ` ↓ ${rate(down) || '0'}  ↑ ${rate(up) || '0'}`);
});

subscribe({
  progress: (all) => store.setAll(all),
  updates: (changed) => store.putMany(changed),
  changed: (event, t) => (event === 'removed' ? store.delete(t.id) : store.put(t)),
  status: (connected) => { store.connected = connected; store.changed(); },
});
document.getElementById('add-open')!.addEventListener('click', () => openAddDialog());
acceptDrops();
window.addEventListener('hashchange', route);
route();
// The first list before the stream's first event (and the token question, when one is needed).
api.list().then((all) => store.setAll(all), showError);
