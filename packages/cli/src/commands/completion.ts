/**
 * `ct completion bash|zsh`: a completion script made from the program's own commands and
 * options, so it never falls behind them. Install: `ct completion bash > /etc/bash_completion.d/ct`
 * or `source <(ct completion bash)`; zsh: `ct completion zsh > "${fpath[1]}/_ct"`.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { examples } from '../output-options.js';

export function register(program: Command): void {
  const cmd = program.command('completion')
    .summary('print a shell completion script (bash or zsh)')
    .description('Prints a completion script for the shell: commands, their options, and file names elsewhere.')
    .argument('<shell>', 'bash or zsh', (v: string) => {
      if (v !== 'bash' && v !== 'zsh') throw new InvalidArgumentError('expected bash or zsh.');
      return v;
    });
  examples(cmd, ['source <(ct completion bash)', 'ct completion zsh > "${fpath[1]}/_ct"']);
  cmd.action((shell: 'bash' | 'zsh') => {
    process.stdout.write(shell === 'bash' ? bashScript(program) : zshScript(program));
  });
}

function commandTable(program: Command): { name: string; summary: string; options: string[] }[] {
  return program.commands.map((c) => ({
    name: c.name(),
    summary: c.summary() || c.description().split('\n')[0],
    options: [...c.options.flatMap((o) => [o.long, o.short].filter((x): x is string => !!x)), '--help'],
  }));
}

function bashScript(program: Command): string {
  const table = commandTable(program);
  const cases = table.map((c) => `    ${c.name}) opts="${c.options.join(' ')}" ;;`).join('\n');
  return `# bash completion for ct (made by: ct completion bash)
_ct() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd=\${COMP_WORDS[1]} opts
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${table.map((c) => c.name).join(' ')} help --help --version" -- "$cur"))
    return
  fi
  case "$cmd" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _ct ct
`;
}

function zshScript(program: Command): string {
  const table = commandTable(program);
  const quote = (s: string) => s.replace(/'/g, "'\\''").replace(/:/g, '\\:');
  const cases = table.map((c) => `    ${c.name}) _arguments '*:file:_files' ${c.options.map((o) => `'${o}'`).join(' ')} ;;`).join('\n');
  return `#compdef ct
# zsh completion for ct (made by: ct completion zsh)
_ct() {
  local -a commands
  commands=(
${table.map((c) => `    '${c.name}:${quote(c.summary)}'`).join('\n')}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case $words[2] in
${cases}
  esac
}
compdef _ct ct
`;
}
