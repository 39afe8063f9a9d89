#!/usr/bin/env -S node --max-semi-space-size=2
/**
 * The `ct` command's entry point: runs the commander program (program.ts) and turns every error
 * into a single line on stderr with a non-zero exit: 2 for usage errors, 1 for everything else.
 *
 * The V8 flag on the first line caps the young generation at two 2 MiB semi-spaces. Left to
 * itself V8 grows them to 16 MiB each while a download allocates, ~20 MiB of peak RSS for
 * garbage that lives a few milliseconds (bench/RESULTS.md, "2026-12-02, late"). It can only be
 * given at start-up (v8.setFlagsFromString is too late for the heap's layout), hence the line.
 */
import { CommanderError } from 'commander';
import { CtError } from '@ct/engine';
import { buildProgram } from './program.js';

// `pnpm ct ...` runs in the checkout: resolve relative paths against the caller's directory.
if (process.env.npm_lifecycle_event === 'ct' && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);

// libuv's pool (disk IO, SHA-1) keeps its default of four threads. Setting UV_THREADPOOL_SIZE
// here would come too late: loading the ES modules above already started the pool (a `ct seed`
// had 11 threads with or without such a line, 9 with the variable set before Node started).

const argv = process.argv.slice(2);
const program = await buildProgram(argv);

function usageLine(err: CommanderError): string {
  // "error: unknown option '--bogus'\n(Did you mean --seed?)" -> one line with a pointer to --help.
  const text = err.message.replace(/^error: /, '').replace(/\n\(Did you mean (.*)\?\)/, ' (did you mean $1?)').replace(/\s*\n\s*/g, ' ')
    .replace(/ is invalid\. /, ' is invalid: ').replace(/\.$/, '');
  const cmd = program.commands.find((c) => c.name() === argv[0]);
  return `${text}; see ct ${cmd ? `${cmd.name()} ` : ''}--help`;
}

function fail(err: unknown): never {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') process.exit(0);
    process.stderr.write(`ct: ${usageLine(err)}\n`);
    process.exit(2);
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`ct: ${message.split('\n')[0]}\n`);
  if (process.env.CT_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exit(err instanceof CtError && err.code === 'EUSAGE' ? 2 : 1);
}

process.on('unhandledRejection', fail);
if (argv.length === 0) {
  process.stdout.write(program.helpInformation());
  process.exit(2);
}
program.parseAsync(argv, { from: 'user' }).then(() => process.exit(0), fail);
