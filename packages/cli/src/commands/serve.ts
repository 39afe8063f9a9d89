/**
 * `ct serve`: the long-running service. One session holds every torrent added to it (through the
 * HTTP API, or `ct add` which uses it), restores them all after a restart from the state dir
 * (fast resume: unchanged files are trusted, not hashed), seeds what it has, optionally shows
 * them all in one read-only mount, and serves their files with Range under /files/, the mount's
 * tree over WebDAV under /dav/ and a web page at /. Runs until
 * SIGINT/SIGTERM or `ct umount` of its mount.
 */
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { TorrentHttpServer, UsageError, parseHostPort } from '@ct/engine';
import { torrentsWithFiles } from '@ct/fusefs';
import { commandConfig, effectiveEntries } from '../config/apply-config.js';
import { describeOrigin } from '../config/load-config.js';
import { VERSION } from '../version.js';
import { serveControl } from '../control/control-socket.js';
import { addMountOptions, cacheOption, newTorrentMount, prepareMountPoint, unmountHandler, type MountFlags } from '../mount-point.js';
import { parseHttp } from '../options.js';
import { effectiveLevel, parseLogFormat, parseLogLevel, serviceLog, type LogFormat, type LogLevel } from '../log.js';
import { examples } from '../output-options.js';
import { ApiServer } from '../service/api-server.js';
import type { SessionView } from '../service/api-types.js';
import { EventStream } from '../service/event-stream.js';
import { Service } from '../service/service.js';
import { ServiceRegistry } from '../service/service-registry.js';
import { WatchFolder, addRequestFromFile } from '../service/watch-folder.js';
import { WebAssets, webUiDir } from '../service/web-assets.js';
import { WebDavExport } from '../service/webdav.js';
import { addSessionOptions, sessionSettings, type SourceOptions } from '../sources.js';
import { onShutdown, openSession } from '../swarm.js';

interface ServeOptions extends SourceOptions, MountFlags {
  mount?: string;
  logLevel?: LogLevel;
  logFormat: LogFormat;
  quiet?: boolean;
  verbose?: boolean;
  watchDir?: string;
  http: string;
  config?: string;
}

export const DEFAULT_HTTP = '127.0.0.1:4444';

export function register(program: Command): void {
  const cmd = program.command('serve')
    .summary('run the service: torrents added while it runs, kept across restarts, mounted, over HTTP')
    .description('Runs one session until Ctrl-C or SIGTERM. Torrents are added to it while it runs (ct add, or the\n' +
      'HTTP API: docs/http-api.md) and come back after a restart as they were, from the state dir, without\n' +
      'hashing files that did not change. With --mount every torrent appears in one read-only folder as with\n' +
      'ct mount (reads fetch what they need first); without it, or besides, the same tree is served over WebDAV\n' +
      'at http://HOST:PORT/dav/ (read-only) and files with Range at /files/. http://HOST:PORT/ is a web page to\n' +
      'manage it all from a browser. The API listens on loopback unless told otherwise; any other address needs a\n' +
      'token (http.token in the config, or CT_HTTP_TOKEN), sent by clients as `Authorization: Bearer TOKEN`.\n' +
      'With --watch-dir, .torrent files and .magnet files (a magnet link as text) dropped in that folder are added\n' +
      'and renamed NAME.added (NAME.invalid when they cannot be, with the reason in the log).');
  addMountOptions(addSessionOptions(cmd)
    .option('--mount <dir>', 'show every torrent in a read-only folder here (an empty folder)')
    .option('--watch-dir <dir>', 'add .torrent and .magnet files dropped here (each renamed .added or .invalid)')
    .addOption(new Option('--http <host:port>', 'serve the web page, the HTTP API, WebDAV and /files/ here (PORT alone: 127.0.0.1:PORT)').argParser(parseHttp).default(DEFAULT_HTTP)), 'the --mount folder')
    .addOption(new Option('--log-level <level>', 'log error, warn, info or debug').argParser(parseLogLevel).default(undefined, 'info'))
    .addOption(new Option('--log-format <format>', 'text (ct: ...) or json (one object per line)').argParser(parseLogFormat).default('text'))
    .addOption(new Option('-q, --quiet', 'log warnings and errors only (--log-level warn)').conflicts('verbose'))
    .option('-v, --verbose', 'log debug events too: peers connecting and leaving, hash failures (--log-level debug)');
  examples(cmd, [
    'ct serve --mount ~/torrents --listen 0.0.0.0:6881',
    "ct add 'magnet:?xt=urn:btih:...'; ls ~/torrents",
    'CT_HTTP_TOKEN=secret ct serve --http 0.0.0.0:4444',
  ]);
  cmd.action((opts: ServeOptions, command: Command) => {
    // -q and -v are flags: they beat a log.level from the config or the environment, not --log-level.
    if (command.getOptionValueSource('logLevel') !== 'cli' && (opts.quiet || opts.verbose)) opts.logLevel = undefined;
    return serve(opts, command);
  });
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host) || /^::ffff:127\./i.test(host);
}

async function serve(opts: ServeOptions, command: Command): Promise<void> {
  const config = commandConfig(opts.config);
  const token = config.get('http.token')?.value as string | undefined;
  const http = parseHostPort(opts.http, { listen: true });
  if (!isLoopback(http.host) && !token) {
    throw new UsageError(`refusing to serve the API on ${opts.http} without a token: set http.token in the config or CT_HTTP_TOKEN (or listen on 127.0.0.1)`);
  }
  const mountPoint = opts.mount === undefined ? undefined : path.resolve(opts.mount);
  if (mountPoint) prepareMountPoint(mountPoint, !!opts.mkdir);
  const log = serviceLog(effectiveLevel(opts), opts.logFormat);
  const { stateDir } = sessionSettings(opts);
  const session = await openSession(opts.listen, opts, cacheOption(opts));
  // What the engine cannot do but survives (a resume save on a full disk, a refused connection).
  session.on('warning', (message) => log(message, 'warn'));
  // The mount tells the metrics of each read; the metrics and the event stream read the service.
  // A file written into DIR/.ct/add/ is added like one dropped in the watch folder; a refusal fails its close().
  const addFolder = async (name: string, bytes: Buffer) => {
    try {
      const added = await service.add(addRequestFromFile(name, bytes));
      log(`.ct/add: added ${name} (${added.id})`);
    } catch (err) {
      log(`.ct/add: ${name} is refused: ${(err as Error).message.split('\n')[0]}`, 'warn');
      throw err;
    }
  };
  const fuse = mountPoint ? newTorrentMount(mountPoint, opts, { onRead: (seconds, ok) => metrics.mountRead(seconds, ok), addFolder, cacheStats: () => session.cacheStats() }) : undefined;
  const webdav = new WebDavExport('/dav');
  const service = new Service({
    session, mount: fuse, webdav, log,
    registry: new ServiceRegistry(stateDir!, (m) => log(m, 'warn')),
    downloadDir: path.resolve(opts.downloadDir),
    onDemand: !!fuse && !opts.downloadAll,
    onEvent: (event, view) => events.emit(event, view),
  });
  const events = new EventStream(() => service.list());
  // prom-client costs ~70 ms to load: only this command pays it, not every ct add or ct ls.
  const { ServiceMetrics } = await import('../service/metrics.js');
  const metrics = new ServiceMetrics(() => service.snapshot(), () => session.cacheStats());
  const watch = opts.watchDir ? new WatchFolder({ dir: path.resolve(opts.watchDir), add: (req) => service.add(req), log }) : undefined;
  const uiDir = webUiDir();
  if (!uiDir) log('the web page is not built (pnpm build builds packages/webui): / answers 404', 'warn');
  const configShown = effectiveEntries(command, config).map((e) => ({ key: e.key.name, value: e.value ?? null, origin: describeOrigin(e.origin) }));
  const sessionView = (): SessionView => {
    const bt = session.listenAddress;
    return {
      version: VERSION, limits: session.rateLimits, cache: session.cacheStats(), mountPoint, webdav: webdav.prefix,
      downloadDir: path.resolve(opts.downloadDir), listen: bt ? `${bt.host}:${bt.port}` : undefined, dhtNodes: session.dht?.nodeCount ?? 0, config: configShown,
    };
  };
  const api = new ApiServer(service, {
    token, files: new TorrentHttpServer(session, '/files'), metrics, events, webdav,
    ui: uiDir ? new WebAssets(uiDir) : undefined, session: sessionView,
    onAnswered: (area, method, status) => metrics.httpRequest(area, method, status),
  });
  let control: Awaited<ReturnType<typeof serveControl>> | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      watch?.stop();
      await fuse?.unmount().catch((err: Error) => log(err.message, 'error'));
      control?.close();
      events.close();
      await api.close();
      await session.close(); // saves every torrent's resume data
    })();
    return stopping;
  };
  let url: string;
  try {
    const bound = await api.listen(http.host, http.port);
    url = `http://${bound.host.includes(':') ? `[${bound.host}]` : bound.host}:${bound.port}`;
    if (fuse && mountPoint) {
      control = await serveControl(mountPoint, {
        status: () => ({ ...fuse.status(), api: url }),
        unmount: unmountHandler(fuse, stop),
      });
      await fuse.mount();
    } else {
      // No mount: ct status still lists this service (its socket is named after the API's address).
      const api = url;
      control = await serveControl(`ct serve ${api}`, {
        status: () => ({ mountPoint: `(no mount: ct serve at ${api})`, pid: process.pid, openFiles: 0, api, torrents: torrentsWithFiles(session.torrentList, (t) => t.metainfo.name) }),
        unmount: () => ({ refuse: 'this ct serve has no mount: stop it with Ctrl-C or SIGTERM' }),
      });
    }
    const restored = await service.restore();
    watch?.start();
    if (restored > 0) log(`restored ${restored} torrent${restored === 1 ? '' : 's'} from ${stateDir}`);
  } catch (err) {
    await stop();
    throw err;
  }
  onShutdown(stop, () => 0);
  log(`serving (pid ${process.pid}): web page at ${url}/, API at ${url}/api/v1/torrents, WebDAV at ${url}/dav/, metrics at ${url}/metrics, files at ${url}/files/${mountPoint ? `, mount at ${mountPoint}` : ''}`);
  return new Promise<void>(() => undefined);
}
