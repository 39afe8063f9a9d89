/**
 * Adding a torrent: a magnet link, an http(s) URL of a .torrent, or a .torrent file chosen or
 * dropped on the page. A .torrent's files are listed first (the server reads it without adding
 * it) so some can be left out; a magnet's files are known only once its metadata came, and are
 * chosen on its page. Category and "start paused" apply to all three.
 */
import { api, type AddBody, type InspectResult } from './api.js';
import { fill, h } from './dom.js';
import { bytes } from './format.js';
import { modal, showError } from './dialogs.js';
import { store } from './store.js';

export function openAddDialog(file?: File): void {
  const link = h('input', { type: 'text', id: 'add-link', placeholder: 'magnet:?xt=urn:btih:... or https://.../file.torrent', 'aria-label': 'magnet link or URL' });
  const chooser = h('input', { type: 'file', id: 'add-file', accept: '.torrent,application/x-bittorrent', 'aria-label': '.torrent file' });
  const categories = [...new Set([...store.torrents.values()].map((t) => t.category).filter((c): c is string => !!c))];
  const category = h('input', { type: 'text', id: 'add-category', list: 'add-categories', placeholder: 'none', 'aria-label': 'category' });
  const paused = h('input', { type: 'checkbox', id: 'add-paused' });
  const files = h('div', { class: 'file-choice', id: 'add-files' });
  const status = h('p', { class: 'hint' });
  let torrentBase64: string | undefined;
  let inspected: InspectResult | undefined;

  const showFiles = async (body: { torrent?: string; url?: string }) => {
    inspected = undefined;
    fill(files, 'Reading the torrent...');
    try {
      inspected = await api.inspect(body);
    } catch (err) {
      fill(files);
      return showError(err);
    }
    const i = inspected;
    fill(files, h('p', {}, h('strong', {}, i.name), ` (${bytes(i.size)}, ${i.files.length} file${i.files.length === 1 ? '' : 's'})`, i.added ? h('span', { class: 'error-text' }, ' already added') : null),
      h('ul', {}, ...i.files.map((f, n) => h('li', {}, h('label', {}, h('input', { type: 'checkbox', checked: true, 'data-index': n + 1, class: 'file-pick' }), ` ${f.path} `, h('span', { class: 'dim' }, bytes(f.length)))))));
  };
  chooser.addEventListener('change', () => { if (chooser.files?.[0]) void takeFile(chooser.files[0]); });
  link.addEventListener('change', () => { if (/^https?:\/\//i.test(link.value.trim())) void showFiles({ url: link.value.trim() }); });
  const takeFile = async (f: File) => {
    torrentBase64 = await toBase64(f);
    link.value = '';
    await showFiles({ torrent: torrentBase64 });
  };

  const dialog = modal(h('form', { id: 'add-form', onsubmit: (ev: Event) => {
    ev.preventDefault();
    const body: AddBody = {};
    const text = link.value.trim();
    if (text) {
      if (/^https?:\/\//i.test(text)) body.url = text;
      else body.magnet = text;
    } else if (torrentBase64) body.torrent = torrentBase64;
    else return void (status.textContent = 'Give a magnet link, a URL or a .torrent file.');
    if (category.value.trim()) body.category = category.value.trim();
    if (paused.checked) body.paused = true;
    const picks = [...files.querySelectorAll<HTMLInputElement>('.file-pick')];
    if (inspected && !body.magnet && picks.some((p) => !p.checked)) {
      const chosen = picks.filter((p) => p.checked).map((p) => p.dataset.index!);
      if (chosen.length === 0) return void (status.textContent = 'Choose at least one file.');
      body.select = chosen;
    }
    status.textContent = 'Adding...';
    api.add(body).then(() => dialog.close(), (err: Error) => { status.textContent = ''; showError(err); });
  } },
  h('h2', {}, 'Add a torrent'),
  h('label', {}, 'Magnet link or URL', link),
  h('label', {}, 'or a .torrent file (or drop one on the page)', chooser),
  files,
  h('label', {}, 'Category', category, h('datalist', { id: 'add-categories' }, ...categories.map((c) => h('option', { value: c })))),
  h('label', { class: 'inline' }, paused, ' start paused'),
  status,
  h('div', { class: 'buttons' }, h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'), h('button', { type: 'submit', id: 'add-submit' }, 'Add'))));
  if (file) void takeFile(file);
  else link.focus();
}

async function toBase64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Dropping a .torrent anywhere on the page opens the dialog with it. */
export function acceptDrops(): void {
  document.addEventListener('dragover', (ev) => { ev.preventDefault(); });
  document.addEventListener('drop', (ev) => {
    ev.preventDefault();
    const f = ev.dataTransfer?.files[0];
    if (f) openAddDialog(f);
  });
}
