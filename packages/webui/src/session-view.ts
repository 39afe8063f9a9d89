/** The session's page: global rate limits (editable), the cache, where things are, and the effective configuration (read-only). */
import { api, type SessionView } from './api.js';
import { bar, fill, h } from './dom.js';
import { bytes, rate } from './format.js';
import { showError } from './dialogs.js';
import { store } from './store.js';

export function sessionView(root: HTMLElement): () => void {
  const limits = h('div');
  const facts = h('div');
  const config = h('tbody');
  fill(root, h('section', { class: 'session' }, h('h2', {}, 'Session'), limits, facts, h('h3', {}, 'Configuration'),
    h('p', { class: 'dim' }, 'As ct serve runs with it; change it in the config file, the environment or with flags (ct config explains each key).'),
    h('table', { id: 'config' }, h('thead', {}, h('tr', {}, h('th', {}, 'Key'), h('th', {}, 'Value'), h('th', {}, 'From'))), config)));
  let drawnLimits = false;
  let gone = false;
  const refresh = async () => {
    let s: SessionView;
    try {
      s = await api.session();
    } catch (err) {
      return showError(err);
    }
    if (gone) return;
    if (!drawnLimits) {
      drawnLimits = true;
      drawLimits(limits, s);
    }
    const total = [...store.torrents.values()].reduce((a, t) => ({ down: a.down + t.downloadRate, up: a.up + t.uploadRate }), { down: 0, up: 0 });
    fill(facts, h('h3', {}, 'Now'), h('ul', { class: 'plain' },
      h('li', {}, `${store.torrents.size} torrents; down ${rate(total.down) || '0'}, up ${rate(total.up) || '0'}`),
      h('li', {}, 'Mount: ', s.mountPoint ? h('code', { id: 'mount-point' }, s.mountPoint) : 'none (ct serve --mount DIR)'),
      h('li', {}, 'WebDAV: ', h('a', { href: `${s.webdav}/` }, `${location.origin}${s.webdav}/`)),
      h('li', {}, 'Downloads go to ', h('code', {}, s.downloadDir)),
      h('li', {}, `BitTorrent listens on ${s.listen ?? 'nothing'}; DHT ${s.dhtNodes} nodes`),
      h('li', {}, `ct ${s.version}`)),
    h('h3', {}, 'Cache'), s.cache
      ? h('div', { id: 'cache' }, bar(s.cache.max > 0 ? s.cache.used / s.cache.max : 0), ` ${bytes(s.cache.used)} of ${bytes(s.cache.max)} in ${s.cache.pieces} pieces; ${s.cache.hits} hits, ${s.cache.misses} misses, ${s.cache.evictions} evictions`)
      : h('p', { id: 'cache' }, 'No bounded cache (cache.max_size): pieces stay on disk.'));
    fill(config, ...s.config.map((c) => h('tr', {}, h('td', {}, h('code', {}, c.key)), h('td', {}, c.value === undefined || c.value === null ? h('span', { class: 'dim' }, 'not set') : JSON.stringify(c.value)), h('td', { class: 'dim' }, c.origin))));
  };
  void refresh();
  const timer = setInterval(() => void refresh(), 2000);
  return () => { gone = true; clearInterval(timer); };
}

function drawLimits(root: HTMLElement, s: SessionView): void {
  const down = h('input', { type: 'number', min: 0, step: 'any', id: 'limit-down', value: s.limits.download ? s.limits.download / 1e6 : '', placeholder: 'none' });
  const up = h('input', { type: 'number', min: 0, step: 'any', id: 'limit-up', value: s.limits.upload ? s.limits.upload / 1e6 : '', placeholder: 'none' });
  const saved = h('span', { class: 'dim' });
  fill(root, h('h3', {}, 'Rate limits'), h('form', { class: 'limits', onsubmit: (ev: Event) => {
    ev.preventDefault();
    api.setLimits({ download: Math.round(Number(down.value || 0) * 1e6), upload: Math.round(Number(up.value || 0) * 1e6) })
      .then((l) => { saved.textContent = ` now down ${l.download ? rate(l.download) : 'unlimited'}, up ${l.upload ? rate(l.upload) : 'unlimited'}`; }, showError);
  } }, h('label', {}, 'Download MB/s ', down), h('label', {}, ' Upload MB/s ', up), h('button', { type: 'submit' }, 'Set'), saved));
}
