/** Starts the HTTP Range server for `ct stream` and `ct download --http`. */
import { TorrentHttpServer, fileUrlPath, parseHostPort, type Session } from '@ct/engine';
import type { ProgressReporter } from './progress.js';

export async function serveHttp(session: Session, address: string, reporter: ProgressReporter): Promise<TorrentHttpServer> {
  const { host, port } = parseHostPort(address, { listen: true });
  const server = new TorrentHttpServer(session);
  const bound = await server.listen(host, port);
  const base = `http://${bound.host.includes(':') ? `[${bound.host}]` : bound.host}:${bound.port}`;
  const urls = session.torrentList.flatMap((t) => t.files.map((f) => base + fileUrlPath(t.metainfo.name, t.metainfo.multiFile, f.path)));
  reporter.event('http', `serving on ${base}/\n${urls.map((u) => `  ${u}`).join('\n')}`, { url: `${base}/`, files: urls });
  return server;
}
