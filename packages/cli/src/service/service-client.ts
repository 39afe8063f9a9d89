/**
 * How `ct add`, `ct rm`, `ct ls`, `ct files`, `ct pause` and `ct resume` reach a running
 * `ct serve`: its HTTP API at --server URL, or at http.listen of the configuration (default
 * 127.0.0.1:4444), with http.token / CT_HTTP_TOKEN as the bearer token. A service that is not
 * there, or refuses, is one line; a refusal because of what the user gave is a usage error.
 */
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { CtError, UsageError, isMagnet } from '@ct/engine';
import { commandConfig, configOption } from '../config/apply-config.js';
import type { AddRequest } from './api-types.js';

export interface ClientOptions {
  server?: string;
  config?: string;
}

/** Adds --server and --config to a command that talks to the service. */
export function addClientOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--server <url>', 'the ct serve to talk to').default(undefined, 'http://<http.listen>, 127.0.0.1:4444'))
    .addOption(configOption());
}

export class ServiceClient {
  private constructor(readonly url: string, private readonly token: string | undefined) {}

  static from(opts: ClientOptions): ServiceClient {
    const config = commandConfig(opts.config);
    const token = config.get('http.token')?.value as string | undefined;
    if (opts.server) {
      if (!/^https?:\/\/[^/]+\/?$/.test(opts.server)) throw new UsageError(`--server ${opts.server}: expected http://HOST:PORT`);
      return new ServiceClient(opts.server.replace(/\/$/, ''), token);
    }
    const listen = String(config.get('http.listen')?.value ?? '127.0.0.1:4444');
    // A service listening on every address is reached on loopback.
    const host = listen.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
    return new ServiceClient(`http://${host}`, token);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.url + path, {
        method,
        headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new CtError('ESERVICE', `no ct serve answers at ${this.url} (${cause === 'ECONNREFUSED' ? 'connection refused' : cause}): start one with ct serve, or give --server URL`);
    }
    const text = await res.text();
    const parsed = text ? (() => { try { return JSON.parse(text) as unknown; } catch { return undefined; } })() : undefined;
    if (res.ok) return parsed as T;
    const why = (parsed as { error?: string } | undefined)?.error ?? `HTTP ${res.status}`;
    if (res.status === 400 || res.status === 404 || res.status === 409) throw new UsageError(why);
    throw new CtError('ESERVICE', `${this.url}: ${why}`);
  }
}

/** The body of an add from a command-line source: a magnet link, an infohash, a URL, or a .torrent file. */
export async function addRequestFor(source: string): Promise<AddRequest & { torrent?: Buffer }> {
  if (isMagnet(source) || /^[0-9a-f]{40}$/i.test(source)) return { magnet: source };
  if (/^https?:\/\//i.test(source)) return { url: source }; // fetched by the service
  try {
    return { torrent: await readFile(source) };
  } catch (err) {
    throw new UsageError(`cannot read ${source}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}
