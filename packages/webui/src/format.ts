/** Sizes, rates and durations as people read them. Pure. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

export function rate(n: number): string {
  return n > 0 ? `${bytes(n)}/s` : '';
}

/** Time left at the current rate, or '' when unknown or done. */
export function eta(remaining: number, bytesPerSecond: number): string {
  if (remaining <= 0 || bytesPerSecond <= 0) return '';
  const s = Math.round(remaining / bytesPerSecond);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** A path segment by segment percent-encoded, as the server's URLs are. */
export function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

const MEDIA = /\.(mp4|m4v|webm|mkv|mov|ogv|mp3|m4a|ogg|opus|flac|wav|aac)$/i;
export function isMedia(path: string): boolean {
  return MEDIA.test(path);
}
export function isAudio(path: string): boolean {
  return /\.(mp3|m4a|ogg|opus|flac|wav|aac)$/i.test(path);
}
