/** What the page knows of the service's torrents, kept current by the event stream; views redraw on change. */
import type { TorrentView } from './api.js';

type Listener = () => void;

class Store {
  torrents = new Map<string, TorrentView>();
  connected = false;
  private readonly listeners = new Set<Listener>();

  setAll(all: TorrentView[]): void {
    this.torrents = new Map(all.map((t) => [t.id, t]));
    this.changed();
  }

  put(view: TorrentView): void {
    this.torrents.set(view.id, view);
    this.changed();
  }

  /** Views that changed; the others keep their objects (views compare them by identity to skip redraws). */
  putMany(views: TorrentView[]): void {
    for (const v of views) this.torrents.set(v.id, v);
    this.changed();
  }

  delete(id: string): void {
    this.torrents.delete(id);
    this.changed();
  }

  /** Calls `fn` on every change until the returned function is called. */
  watch(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  changed(): void {
    for (const fn of [...this.listeners]) fn();
  }
}

export const store = new Store();
