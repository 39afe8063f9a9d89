/**
 * The page's client of the ct serve API (docs/http-api.md). Same origin, so the browser sends the
 * `ct_token` cookie with every request, the event stream and the media player included; a 401
 * asks for the token once (askToken) and keeps it in that cookie.
 */
import type { InspectResult, Limits, PeerView, PieceMapView, SessionView, TorrentDetail, TorrentView } from '../../cli/src/service/api-types.js';

export type { InspectResult, Limits, PeerView, PieceMapView, SessionView, TorrentDetail, TorrentView };

/** The body of an add, as the page sends it (a .torrent as base64). */
export interface AddBody {
  magnet?: string;
  url?: string;
  torrent?: string;
  category?: string;
  select?: string[];
  paused?: boolean;
}

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Called on a 401: resolves once the user gave a token (then the request is tried again). */
let askToken: () => Promise<void> = () => Promise.reject(new ApiError(401, 'a token is needed'));
export function onTokenNeeded(ask: () => Promise<void>): void {
  askToken = ask;
}

/** Keeps the token for this server in a cookie the server reads (a year; same-site requests only). */
export function saveToken(token: string): void {
  document.cookie = `ct_token=${encodeURIComponent(token)}; path=/; max-age=31536000; SameSite=Strict`;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(path, { method, headers: body === undefined ? {} : { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (res.status === 401 && attempt < 3) {
      await askToken();
      continue;
    }
    if (res.status === 204) return undefined as T;
    const json = (await res.json().catch(() => ({}))) as { error?: string };
    if (!res.ok) throw new ApiError(res.status, json.error ?? `${res.status} ${res.statusText}`);
    return json as T;
  }
}

const one = (id: string) => `/api/v1/torrents/${encodeURIComponent(id)}`;

export const api = {
  list: () => call<TorrentView[]>('GET', '/api/v1/torrents'),
  detail: (id: string) => call<TorrentDetail>('GET', one(id)),
  peers: (id: string) => call<PeerView[]>('GET', `${one(id)}/peers`),
  pieces: (id: string) => call<PieceMapView>('GET', `${one(id)}/pieces`),
  add: (body: AddBody) => call<{ id: string; name?: string; pending: boolean }>('POST', '/api/v1/torrents', body),
  inspect: (body: { torrent?: string; url?: string }) => call<InspectResult>('POST', '/api/v1/inspect', body),
  remove: (id: string, deleteData: boolean) => call<void>('DELETE', `${one(id)}${deleteData ? '?delete_data=1' : ''}`),
  pause: (id: string) => call<TorrentView>('POST', `${one(id)}/pause`),
  resume: (id: string) => call<TorrentView>('POST', `${one(id)}/resume`),
  priority: (id: string, files: string[], priority: number) => call<TorrentDetail>('POST', `${one(id)}/priority`, { files, priority }),
  session: () => call<SessionView>('GET', '/api/v1/session'),
  setLimits: (limits: Partial<Limits>, id?: string) => call<Limits>('POST', id ? `${one(id)}/limits` : '/api/v1/limits', limits),
};

/**
 * The live list: server-sent events. `progress` brings every torrent when the stream opens,
 * `updates` once a second the torrents whose view changed (`?changes=1`), the others one torrent
 * as it changes. EventSource reconnects by itself (and gets a whole `progress` again); a 401 (no
 * token yet) is retried after the user gave one.
 */
export function subscribe(handlers: { progress(all: TorrentView[]): void; updates(changed: TorrentView[]): void; changed(event: string, view: TorrentView): void; status(connected: boolean): void }): void {
  const open = () => {
    const es = new EventSource('/api/v1/events?changes=1');
    es.addEventListener('open', () => handlers.status(true));
    es.addEventListener('progress', (e) => handlers.progress(JSON.parse((e as MessageEvent<string>).data) as TorrentView[]));
    es.addEventListener('updates', (e) => handlers.updates(JSON.parse((e as MessageEvent<string>).data) as TorrentView[]));
    for (const name of ['added', 'removed', 'paused', 'resumed', 'error']) {
      es.addEventListener(name, (e) => handlers.changed(name, JSON.parse((e as MessageEvent<string>).data) as TorrentView));
    }
    es.addEventListener('error', () => {
      handlers.status(false);
      if (es.readyState === EventSource.CLOSED) {
        // Closed for good (an HTTP error such as 401): ask, then open again.
        call('GET', '/api/v1/session').then(open, () => setTimeout(open, 5000));
      }
    });
  };
  open();
}
