/** The output options several commands share: --json, -q/--quiet, -v/--verbose. */
import { Option, type Command } from 'commander';

export interface OutputOptions {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export function addOutputOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--json', 'one JSON object per line (events, progress every second, a final summary)').conflicts('quiet'))
    .addOption(new Option('-q, --quiet', 'print nothing but the final summary line and errors').conflicts('verbose'))
    .option('-v, --verbose', 'also print peer connections and disconnections (with why), tracker answers, piece failures');
}

/** Appends an "Examples:" block to a command's help. */
export function examples(cmd: Command, lines: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}`);
}

/** Messages for stderr (metadata progress, warnings), unless --quiet or --json keeps stdout clean. */
export function logger(opts: OutputOptions): (message: string) => void {
  return (message) => { if (!opts.quiet) process.stderr.write(`ct: ${message}\n`); };
}
