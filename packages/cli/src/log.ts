/**
 * The log of `ct serve` (config keys log.level and log.format): one line per event on stderr, as text (`ct: message`) or as JSON
 * (`{"time","level","msg"}`, log.format = "json"), from `error` up to `debug` (log.level, or
 * -q for warnings and errors only, -v for debug: peers connecting and leaving, hash failures).
 */
import { InvalidArgumentError } from 'commander';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type ServiceLog = (message: string, level?: LogLevel) => void;

export function parseLogLevel(value: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${LOG_LEVELS.join(', ')}.`);
  return value as LogLevel;
}

export function parseLogFormat(value: string): LogFormat {
  if (!(LOG_FORMATS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${LOG_FORMATS.join(', ')}.`);
  return value as LogFormat;
}

/** The level: --log-level (or log.level), else what -q / -v stand for, else info. */
export function effectiveLevel(opts: { logLevel?: LogLevel; quiet?: boolean; verbose?: boolean }): LogLevel {
  return opts.logLevel ?? (opts.quiet ? 'warn' : opts.verbose ? 'debug' : 'info');
}

export function serviceLog(level: LogLevel, format: LogFormat, write: (line: string) => void = (l) => process.stderr.write(l)): ServiceLog & { enabled(level: LogLevel): boolean } {
  const max = LOG_LEVELS.indexOf(level);
  const enabled = (l: LogLevel) => LOG_LEVELS.indexOf(l) <= max;
  const log = (message: string, l: LogLevel = 'info') => {
    if (!enabled(l)) return;
    write(format === 'json' ? `${JSON.stringify({ time: new Date().toISOString(), level: l, msg: message })}\n` : `ct: ${message}\n`);
  };
  return Object.assign(log, { enabled });
}
