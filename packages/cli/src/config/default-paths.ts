/**
 * Where ct keeps its files by default, after the XDG base directory conventions: the state dir
 * (DHT routing table, fetched metadata) and the config file.
 */
import * as os from 'node:os';
import * as path from 'node:path';

/** $XDG_STATE_HOME/ct, else ~/.local/state/ct. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state'), 'ct');
}

/** $XDG_CONFIG_HOME/ct/config.toml, else ~/.config/ct/config.toml. */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'ct', 'config.toml');
}
