/** Binds a node:http server, turning "address in use" and the like into one CtError line. */
import type { Server } from 'node:http';
import { CtError } from '../errors.js';

export function listenServer(server: Server, host: string, port: number, what: string): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new CtError('EADDRESS', `cannot serve ${what} on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'address in use' : err.message}`)));
    server.listen(port, host, () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? { host: a.address, port: a.port } : { host, port });
    });
  });
}

/** Closes the server and every connection still open on it. */
export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
