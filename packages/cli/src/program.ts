/**
 * The `ct` command line: one commander program, one module per command (each declares its
 * arguments, options with their defaults, help and examples, and its action). commander gives
 * the conventions users expect (`--help` everywhere, `help`, `--version`, "did you mean"
 * suggestions); main.ts turns its errors into one line and exit code 2.
 */
import { Command } from 'commander';
import { applyConfig, takesConfig } from './config/apply-config.js';
import { register as add } from './commands/add.js';
import { register as cat } from './commands/cat.js';
import { register as completion } from './commands/completion.js';
import { register as config } from './commands/config.js';
import { register as create } from './commands/create.js';
import { register as demo } from './commands/demo.js';
import { register as download } from './commands/download.js';
import { register as info } from './commands/info.js';
import { register as limit } from './commands/limit.js';
import { register as ls } from './commands/ls.js';
import { register as mount } from './commands/mount.js';
import { register as pause } from './commands/pause.js';
import { register as rm } from './commands/rm.js';
import { register as seed } from './commands/seed.js';
import { register as select } from './commands/select.js';
import { register as serve } from './commands/serve.js';
import { register as status } from './commands/status.js';
import { register as stream } from './commands/stream.js';
import { register as umount } from './commands/umount.js';
import { VERSION } from './version.js';


const ENVIRONMENT = `
Environment:
  CT_<SECTION>_<KEY>   a key of the config file, such as CT_SESSION_LISTEN or CT_MOUNT_READ_TIMEOUT (ct config)
  CT_NO_DHT=1          do not use the DHT (as --no-dht)
  CT_DEBUG=1           print the stack trace after an error's one-line message
  CT_RUNTIME_DIR       where mounts keep their control sockets (default $XDG_RUNTIME_DIR/ct-UID or /tmp/ct-UID)
  CT_NO_MAPPED_WRITE=1 write pieces with pwrite instead of the native mapped-write addon
  XDG_STATE_HOME       the default state dir is $XDG_STATE_HOME/ct (else ~/.local/state/ct)
  XDG_CONFIG_HOME      the config file is $XDG_CONFIG_HOME/ct/config.toml (else ~/.config/ct/config.toml)
  NO_COLOR             honoured: ct prints no colour in any case

Exit codes: 0 done, 1 failed (peers, disk, mount, ...), 2 usage error, 130/143 interrupted.
Every command has --help with its options, defaults and examples.`;

export function buildProgram(): Command {
  const program = new Command('ct')
    .description('ct: a BitTorrent engine you can embed, and this command to drive it (no external daemon; ct serve is the service)')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .addHelpText('after', ENVIRONMENT)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  for (const register of [download, seed, cat, stream, mount, umount, status, serve, add, rm, ls, pause, select, limit, create, info, config, demo, completion]) register(program);
  // The config file and CT_<SECTION>_<KEY> fill in what the command line did not say.
  program.hook('preAction', (_program, command) => { if (takesConfig(command) && command.name() !== 'config') applyConfig(command); });
  // Subcommands inherit the error handling, and descriptions written as paragraphs: the source
  // breaks lines at ~105 columns, commander wraps again at the terminal's width, so a single
  // line break is a space and only a blank line separates paragraphs.
  const paragraphs = { commandDescription: (cmd: Command) => cmd.description().replace(/([^\n])\n(?=[^\n])/g, '$1 ') };
  for (const c of program.commands) c.exitOverride().configureOutput({ outputError: () => undefined }).showSuggestionAfterError(true).configureHelp(paragraphs);
  program.helpCommand('help [command]', 'show help for a command');
  return program;
}
