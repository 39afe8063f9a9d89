/**
 * `ct add https://.../x.torrent`: fetches a .torrent for the service, bounded: at most 8 MiB, 30 s
 * in all, 5 redirects (followed by hand, so a loop is named as one), and a page that is HTML (a
 * login wall, an error page) is refused with what it was instead of "not bencoded".
 */
import { ApiError } from './api-types.js';

const MAX_TORRENT_BYTES = 8 * 1024 * 1024;
const MAX_REDIRECTS = 5;

export async function fetchTorrentFile(url: string, timeoutMs = 30_000): Promise<Buffer> {
  const signal = AbortSignal.timeout(timeoutMs);
  const seen = new Set<string>();
  let at = url;
  for (let hop = 0; ; hop++) {
    let parsed: URL;
    try {
      parsed = new URL(at);
    } catch {
      throw new ApiError(400, `not a URL: ${at}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ApiError(400, `${at}: only http and https URLs are fetched`);
    if (seen.has(parsed.href)) throw new ApiError(400, `${url}: redirect loop (back to ${parsed.href})`);
    seen.add(parsed.href);
    let res: Response;
    try {
      res = await fetch(parsed, { redirect: 'manual', signal, headers: { Accept: 'application/x-bittorrent, */*;q=0.5' } });
    } catch (err) {
      throw new ApiError(400, `cannot fetch ${url}: ${signal.aborted ? `no answer within ${timeoutMs / 1000} s` : ((err as { cause?: Error }).cause?.message ?? (err as Error).message)}`);
    }
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      await res.body?.cancel();
      if (hop >= MAX_REDIRECTS) throw new ApiError(400, `${url}: more than ${MAX_REDIRECTS} redirects`);
      at = new URL(res.headers.get('location')!, parsed).href;
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new ApiError(400, `cannot fetch ${url}: HTTP ${res.status}`);
    }
    if (/text\/html/i.test(res.headers.get('content-type') ?? '')) {
      await res.body?.cancel();
      throw new ApiError(400, `${url} is an HTML page, not a .torrent file`);
    }
    return readCapped(res, url);
  }
}

async function readCapped(res: Response, url: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_TORRENT_BYTES) {
    await res.body?.cancel();
    throw new ApiError(400, `${url}: ${declared} bytes, over the ${MAX_TORRENT_BYTES}-byte limit for a .torrent`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.length;
    if (size > MAX_TORRENT_BYTES) throw new ApiError(400, `${url}: over the ${MAX_TORRENT_BYTES}-byte limit for a .torrent`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
