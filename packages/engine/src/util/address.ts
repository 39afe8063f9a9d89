/**
 * `host:port` strings as users type them: `127.0.0.1:6881`, `[::1]:6881`, `example.org:6881`.
 */
import { isIPv6 } from 'node:net';
import { AddressError } from '../errors.js';

export interface HostPort { host: string; port: number }

/** `listen` allows port 0 ("any free port"); peer addresses do not. */
export function parseHostPort(text: string, opts: { listen?: boolean } = {}): HostPort {
  const s = text.trim();
  let host: string;
  let portText: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(s);
  if (v6) {
    host = v6[1];
    portText = v6[2];
    if (!isIPv6(host)) throw new AddressError(`invalid IPv6 address in "${text}"`);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon <= 0 || s.indexOf(':') !== colon) throw new AddressError(`invalid address "${text}" (expected host:port or [ipv6]:port)`);
    host = s.slice(0, colon);
    portText = s.slice(colon + 1);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < (opts.listen ? 0 : 1) || port > 65535) throw new AddressError(`invalid port in "${text}"`);
  return { host, port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
