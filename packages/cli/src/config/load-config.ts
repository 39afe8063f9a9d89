/**
 * The effective configuration: each key's value and where it came from, lowest precedence first:
 * the default, the config file (TOML, through smol-toml), the environment (CT_<SECTION>_<KEY>),
 * then the command line (applied by apply-config.ts). A mistake anywhere is one ConfigError that
 * names the key, the file and the line (or the variable), never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { parse, TomlError } from 'smol-toml';
import { UsageError } from '@ct/engine';
import { defaultConfigPath } from './default-paths.js';
import { CONFIG_KEYS, ConfigValueError, SECTIONS, envName, findKey, type ConfigKey, type RawValue } from './config-keys.js';

/** A bad config file, variable or value: a usage error (exit code 2), said in one line. */
export class ConfigError extends UsageError {}

export type Origin =
  | { kind: 'default' }
  | { kind: 'file'; file: string; line: number | undefined }
  | { kind: 'env'; variable: string }
  | { kind: 'flag'; flag: string };

export interface ConfigEntry {
  readonly key: ConfigKey;
  readonly value: unknown;
  readonly origin: Origin;
}

export type EffectiveConfig = Map<string, ConfigEntry>;

export interface LoadOptions {
  /** `--config FILE`: must exist. Without it the default path is read if it exists. */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

export function loadConfig(opts: LoadOptions = {}): EffectiveConfig {
  const env = opts.env ?? process.env;
  const config: EffectiveConfig = new Map(CONFIG_KEYS.map((key) => [key.name, { key, value: key.fallback, origin: { kind: 'default' } }]));
  const file = opts.file ?? defaultConfigPath(env);
  const source = readConfigFile(file, opts.file !== undefined);
  if (source !== undefined) for (const entry of fileEntries(file, source)) config.set(entry.key.name, entry);
  for (const entry of envEntries(env)) config.set(entry.key.name, entry);
  return config;
}

function readConfigFile(file: string, explicit: boolean): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return undefined;
    throw new ConfigError(`cannot read the config file ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

function fileEntries(file: string, source: string): ConfigEntry[] {
  let doc: Record<string, unknown>;
  try {
    doc = parse(source) as Record<string, unknown>;
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const what = err.message.split('\n')[0].replace(/^Invalid TOML document: /, '');
    throw new ConfigError(`${file}:${err.line}:${err.column}: not valid TOML: ${what}`);
  }
  const entries: ConfigEntry[] = [];
  for (const [section, table] of Object.entries(doc)) {
    if (!SECTIONS.includes(section)) {
      throw new ConfigError(`${where(file, source, section)}: unknown section [${section}]${suggest(section, SECTIONS)} (sections: ${SECTIONS.join(', ')})`);
    }
    if (typeof table !== 'object' || table === null || Array.isArray(table) || table instanceof Date) {
      throw new ConfigError(`${where(file, source, section)}: ${section} must be a [${section}] table of keys`);
    }
    for (const [name, raw] of Object.entries(table)) {
      const full = `${section}.${name}`;
      const key = findKey(full);
      const line = lineOf(source, section, name);
      const at = line === undefined ? file : `${file}:${line}`;
      if (!key) throw new ConfigError(`${at}: unknown key ${full}${suggest(full, CONFIG_KEYS.map((k) => k.name))}`);
      entries.push({ key, value: parseValue(key, raw as RawValue, at), origin: { kind: 'file', file, line } });
    }
  }
  return entries;
}

function envEntries(env: NodeJS.ProcessEnv): ConfigEntry[] {
  const entries: ConfigEntry[] = [];
  const known = new Map(CONFIG_KEYS.map((k) => [envName(k.name), k]));
  for (const [variable, raw] of Object.entries(env)) {
    if (raw === undefined || !SECTIONS.some((s) => variable.startsWith(`CT_${s.toUpperCase()}_`))) continue;
    const key = known.get(variable);
    if (!key) throw new ConfigError(`unknown variable ${variable}${suggest(variable, [...known.keys()])}`);
    entries.push({ key, value: parseValue(key, raw, variable), origin: { kind: 'env', variable } });
  }
  // The older spelling of CT_SESSION_DHT=false.
  if (env.CT_NO_DHT === '1' && !entries.some((e) => e.key.name === 'session.dht')) {
    entries.push({ key: findKey('session.dht')!, value: false, origin: { kind: 'env', variable: 'CT_NO_DHT' } });
  }
  return entries;
}

function parseValue(key: ConfigKey, raw: RawValue, at: string): unknown {
  try {
    return key.parse(raw);
  } catch (err) {
    if (err instanceof ConfigValueError) throw new ConfigError(`${at}: bad value for ${key.name}: ${err.message}`);
    throw err;
  }
}

/** The line (1-based) where `section.name` is set: under its [section], or dotted at the top. */
function lineOf(source: string, section: string, name: string): number | undefined {
  const lines = source.split(/\r?\n/);
  const quoted = (s: string) => `(?:${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}|"${s}"|'${s}')`;
  const inTable = new RegExp(`^\\s*${quoted(name)}\\s*=`);
  const dotted = new RegExp(`^\\s*${quoted(section)}\\s*\\.\\s*${quoted(name)}\\s*=`);
  let current = '';
  for (let i = 0; i < lines.length; i++) {
    const header = /^\s*\[\s*([^\]]+?)\s*\]/.exec(lines[i]);
    if (header) current = header[1].replace(/["']/g, '');
    else if ((current === section && inTable.test(lines[i])) || (current === '' && dotted.test(lines[i]))) return i + 1;
  }
  return undefined;
}

function where(file: string, source: string, section: string): string {
  const i = source.split(/\r?\n/).findIndex((l) => new RegExp(`^\\s*(\\[\\s*${section}\\s*\\]|${section}\\s*[.=])`).test(l));
  return i < 0 ? file : `${file}:${i + 1}`;
}

/** " (did you mean X?)" for the closest candidate within a few edits, else "". */
function suggest(word: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) { best = c; bestDistance = d; }
  }
  return best ? ` (did you mean ${best}?)` : '';
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

/** How `ct config` shows where a value came from. */
export function describeOrigin(origin: Origin): string {
  switch (origin.kind) {
    case 'default': return 'default';
    case 'file': return origin.line === undefined ? origin.file : `${origin.file}:${origin.line}`;
    case 'env': return `env ${origin.variable}`;
    case 'flag': return `flag ${origin.flag}`;
  }
}
