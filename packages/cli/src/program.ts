/**
 * The `ct` command line: one commander program, one module per command (each declares its
 * arguments, options with their defaults, help and examples, and its action). commander gives
 * the conventions users expect (`--help` everywhere, `help`, `--version`, "did you mean"
 * suggestions); main.ts turns its errors into one line and exit code 2.
 */
import { Command } from 'commander';
import { applyConfig, takesConfig } from './config/apply-config.js';
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

type Register = (program: Command) => void;

/**
 * Every command, in the order help lists them, loaded only when needed: a command's module pulls
 * in what it uses (the mount, prom-client, the service), and loading all of them for every
 * `ct ls` cost ~100 ms of start-up. Help, completion and a mistyped name load them all.
 */
const COMMANDS: Record<string, () => Promise<{ register: Register }>> = {
  download: () => import('./commands/download.js'), seed: () => import('./commands/seed.js'), cat: () => import('./commands/cat.js'),
  stream: () => import('./commands/stream.js'), mount: () => import('./commands/mount.js'), umount: () => import('./commands/umount.js'),
  status: () => import('./commands/status.js'), serve: () => import('./commands/serve.js'), add: () => import('./commands/add.js'),
  rm: () => import('./commands/rm.js'), ls: () => import('./commands/ls.js'), pause: () => import('./commands/pause.js'),
  select: () => import('./commands/select.js'), limit: () => import('./commands/limit.js'), create: () => import('./commands/create.js'),
  info: () => import('./commands/info.js'), config: () => import('./commands/config.js'), demo: () => import('./commands/demo.js'),
  completion: () => import('./commands/completion.js'),
};

/** Modules registering more than one command (`ct pause` registers `resume` too, `ct ls` `files`). */
const ALIASES: Record<string, string> = { resume: 'pause', deselect: 'select', files: 'ls' };

/** The commands `argv` needs: the one it names, or all of them (help, completion, --version, an unknown name). */
export function commandsFor(argv: readonly string[]): string[] {
  const first = argv[0];
  const name = first === undefined ? undefined : ALIASES[first] ?? first;
  if (name === undefined || name === 'completion' || !(name in COMMANDS)) return Object.keys(COMMANDS);
  return [name];
}

export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const registers = await Promise.all(commandsFor(argv).map(async (name) => (await COMMANDS[name]()).register));
  const program = new Command('ct')
    .description('ct: a BitTorrent engine you can embed, and this command to drive it (no external daemon; ct serve is the service)')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .addHelpText('after', ENVIRONMENT)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  for (const register of registers) register(program);
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
