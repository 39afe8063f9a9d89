/** A `ct serve` of the built CLI, started for a test and waited for until it serves. */
import assert from 'node:assert/strict';
import { ct, type Proc } from './procs.js';
import { waitUntil } from './wait.js';

/** Starts `ct serve` (no DHT, BitTorrent on a free loopback port) with `args`; resolves once it logged that it serves. */
export async function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Proc> {
  const proc = ct(['serve', '--no-dht', '--listen', '127.0.0.1:0', ...args], 'ct serve', env);
  await waitUntil(() => {
    assert.equal(proc.exitCode, null, `ct serve exited: ${proc.stderr}`);
    return proc.stderr.includes('serving (pid');
  }, 'ct serve to come up', 30_000);
  return proc;
}
