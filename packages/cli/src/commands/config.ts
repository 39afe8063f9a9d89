/**
 * `ct config`: prints the effective configuration, one key per line with where its value came
 * from (default, FILE:LINE, env CT_..., flag --...). It takes every option a key stands in for,
 * so `ct config --listen ...` shows what a flag does to the rest; a bad file, variable or value
 * fails here exactly as it would fail any command.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { stringify } from 'smol-toml';
import { CONFIG_KEYS, ConfigValueError, envName } from '../config/config-keys.js';
import { configOption, effectiveEntries } from '../config/apply-config.js';
import { describeOrigin, loadConfig, type ConfigEntry } from '../config/load-config.js';
import { examples } from '../output-options.js';

interface ConfigCommandOptions {
  config?: string;
  json?: boolean;
  [attr: string]: unknown;
}

export function register(program: Command): void {
  const cmd = program.command('config')
    .summary('print the effective configuration and where each value came from')
    .description('Prints every configuration key with its value and its origin: the default, the config file\n' +
      '($XDG_CONFIG_HOME/ct/config.toml, or --config FILE), the environment (CT_<SECTION>_<KEY>) or a flag, which\n' +
      'win in that order (flags win). The options below are the flags the keys stand in for. README.md documents\n' +
      'every key.')
    .addOption(configOption())
    .option('--json', 'print JSON: one object per key');
  for (const key of CONFIG_KEYS) {
    if (!key.flag) continue;
    const option = new Option(key.flag, `${key.name}: ${key.help}`);
    if (key.flag.includes('<')) {
      option.argParser((raw: string) => {
        try {
          return key.parse(raw);
        } catch (err) {
          throw new InvalidArgumentError(err instanceof ConfigValueError ? `${err.message}.` : String(err));
        }
      });
    }
    cmd.addOption(option);
  }
  examples(cmd, ['ct config', 'CT_MOUNT_READ_TIMEOUT=30 ct config --config ./ct.toml', 'ct config --json']);
  cmd.action((opts: ConfigCommandOptions) => printConfig(cmd, opts));
}

function printConfig(cmd: Command, opts: ConfigCommandOptions): void {
  const entries = effectiveEntries(cmd, loadConfig({ file: opts.config }));
  if (opts.json) {
    for (const e of entries) {
      process.stdout.write(`${JSON.stringify({ key: e.key.name, value: e.value ?? null, origin: describeOrigin(e.origin), env: envName(e.key.name), flag: e.key.flag?.split(' ')[0] ?? null })}\n`);
    }
    return;
  }
  let section = '';
  for (const e of entries) {
    const [s, name] = e.key.name.split('.');
    if (s !== section) {
      process.stdout.write(`${section ? '\n' : ''}[${s}]\n`);
      section = s;
    }
    process.stdout.write(`${line(name, e)}\n`);
  }
}

/** `name = value  # origin`, the value as TOML writes it; an unset key as a comment. */
function line(name: string, e: ConfigEntry): string {
  if (e.value === undefined) return `# ${name} is not set (${e.key.fallbackText ?? 'none'})`;
  const toml = stringify({ [name]: e.value }).trim();
  return `${toml}  # ${describeOrigin(e.origin)}`;
}
