/**
 * Puts the configuration under the command line: before a command runs, every option the user
 * did not give takes its value from the config file or the environment where those set it (the
 * flag wins, then the environment, then the file, then the option's own default). Commands opt
 * in with configOption(); the others never read a config file.
 */
import { Option, type Command } from 'commander';
import { CONFIG_KEYS } from './config-keys.js';
import { loadConfig, type ConfigEntry, type EffectiveConfig } from './load-config.js';

/** `--config FILE`, for every command that reads the configuration. */
export function configOption(): Option {
  return new Option('--config <file>', 'read the configuration from this TOML file').default(undefined, '$XDG_CONFIG_HOME/ct/config.toml if it exists');
}

export function takesConfig(cmd: Command): boolean {
  return cmd.options.some((o) => o.attributeName() === 'config');
}

/** What applyConfig loaded for the command running now (one per process): read once, not again by the action. */
let applied: { file: string | undefined; config: EffectiveConfig } | undefined;

/** The configuration of the running command (from `--config FILE` or the default path), loaded once. */
export function commandConfig(file: string | undefined): EffectiveConfig {
  if (applied && applied.file === file) return applied.config;
  return loadConfig({ file });
}

/** Loads the configuration for `cmd` and fills in the options the command line left at their defaults. */
export function applyConfig(cmd: Command): EffectiveConfig {
  const file = cmd.getOptionValue('config') as string | undefined;
  const config = loadConfig({ file });
  applied = { file, config };
  for (const entry of config.values()) {
    const attr = entry.key.option;
    if (!attr || entry.origin.kind === 'default' || !cmd.options.some((o) => o.attributeName() === attr)) continue;
    if (entry.key.only && !entry.key.only.includes(cmd.name())) continue;
    if (cmd.getOptionValueSource(attr) === 'cli') continue;
    cmd.setOptionValueWithSource(attr, entry.value, 'config');
  }
  return config;
}

/**
 * The configuration as `cmd` runs with it: every key from the file, the environment or its
 * default, with the flags given on the command line over them; a secret's value as "<set>" (it
 * stays out of terminals, logs, bug reports and web pages).
 */
export function effectiveEntries(cmd: Command, config: EffectiveConfig): ConfigEntry[] {
  const out = new Map(config);
  for (const key of CONFIG_KEYS) {
    if (!key.option || !key.flag || cmd.getOptionValueSource(key.option) !== 'cli') continue;
    out.set(key.name, { key, value: cmd.getOptionValue(key.option), origin: { kind: 'flag', flag: key.flag.split(' ')[0] } });
  }
  return [...out.values()].map((e) => (e.key.secret && e.value !== undefined ? { ...e, value: '<set>' } : e));
}
