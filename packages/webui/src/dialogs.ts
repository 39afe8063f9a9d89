/** The page's small modal questions: remove a torrent, give the token, show an error. */
import { api, saveToken, type TorrentView } from './api.js';
import { h } from './dom.js';
import { store } from './store.js';

/** A <dialog> added to the page, removed when closed. */
export function modal(...children: (Node | string)[]): HTMLDialogElement {
  const dialog = h('dialog', {}, ...children);
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

export function showError(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  const toast = h('div', { class: 'toast', role: 'alert' }, message);
  document.body.append(toast);
  setTimeout(() => toast.remove(), 6000);
}

export function confirmRemove(t: TorrentView, after?: () => void): void {
  const withData = h('input', { type: 'checkbox', id: 'remove-data' });
  const dialog = modal(h('form', { method: 'dialog', id: 'remove-form', onsubmit: (ev: Event) => {
    const submitter = (ev as SubmitEvent).submitter as HTMLButtonElement | null;
    if (submitter?.value !== 'remove') return;
    api.remove(t.id, withData.checked).then(() => { store.delete(t.id); after?.(); }, showError);
  } },
  h('h2', {}, `Remove ${t.name}?`),
  h('label', {}, withData, ' also delete its downloaded data'),
  h('div', { class: 'buttons' }, h('button', { value: 'cancel' }, 'Cancel'), h('button', { value: 'remove', class: 'danger', id: 'remove-confirm' }, 'Remove'))));
  dialog.querySelector<HTMLButtonElement>('#remove-confirm')?.focus();
}

/** Asks for the API token once; it is kept in a cookie for this server. */
let asking: Promise<void> | undefined;
export function askToken(): Promise<void> {
  asking ??= new Promise<void>((resolve) => {
    const input = h('input', { type: 'password', id: 'token', required: true, autocomplete: 'current-password', 'aria-label': 'token' });
    modal(h('form', { method: 'dialog', onsubmit: () => {
      saveToken(input.value);
      asking = undefined;
      resolve();
    } }, h('h2', {}, 'Token'), h('p', {}, 'This ct serve needs its token (http.token in its config, or CT_HTTP_TOKEN).'), input,
    h('div', { class: 'buttons' }, h('button', { value: 'ok' }, 'Sign in'))));
  });
  return asking;
}
