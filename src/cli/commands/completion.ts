// fcp completion bash|zsh: a completion script made from the command tree itself, so it never
// falls behind the commands. Completes subcommands at any depth and each command's long options.
import type { Command } from 'commander';
import { ControlError } from '../../daemon/control-client.js';

interface Node {
  path: string;
  subcommands: string[];
  options: string[];
}

function walk(cmd: Command, path: string[], out: Node[]): void {
  const options = cmd.options.map((o) => o.long).filter((x): x is string => Boolean(x));
  out.push({ path: path.join(' '), subcommands: cmd.commands.map((c) => c.name()), options: [...options, '--help'] });
  for (const c of cmd.commands) walk(c, [...path, c.name()], out);
}

/** The command tree as "path|subcommands|options" lines (the table both scripts read). */
export function completionTable(program: Command): Node[] {
  const out: Node[] = [];
  walk(program, [], out);
  return out;
}

function bashScript(nodes: Node[]): string {
  const cases = nodes.map((n) => `    "${n.path}") words="${[...n.subcommands, ...n.options].join(' ')}" ;;`).join('\n');
  return `# fcp completion for bash: add \`source <(fcp completion bash)\` to ~/.bashrc
_fcp() {
  local cur path="" words="" i w
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    case "\${path:+$path }$w" in
${nodes.filter((n) => n.path !== '').map((n) => `      "${n.path}") path="${n.path}" ;;`).join('\n')}
    esac
  done
  case "$path" in
${cases}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _fcp fcp
`;
}

function zshScript(nodes: Node[]): string {
  // zsh runs bash completion functions through bashcompinit.
  return `# fcp completion for zsh: add \`source <(fcp completion zsh)\` to ~/.zshrc
autoload -U +X bashcompinit && bashcompinit
${bashScript(nodes)}`;
}

export function registerCompletionCommand(program: Command): void {
  program
    .command('completion <shell>')
    .description('print a shell completion script (bash or zsh)')
    .addHelpText('after', '\nExamples:\n  source <(fcp completion bash)     # in ~/.bashrc\n  source <(fcp completion zsh)      # in ~/.zshrc\n')
    .action((shell: string) => {
      const nodes = completionTable(program);
      if (shell === 'bash') process.stdout.write(bashScript(nodes));
      else if (shell === 'zsh') process.stdout.write(zshScript(nodes));
      else throw new ControlError('CLI_BAD_ARGUMENT', `no completion for ${JSON.stringify(shell)}: choose bash or zsh`);
    });
}
