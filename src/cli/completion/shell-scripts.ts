/** The shells `okesu completion` writes a script for. */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
/** A shell. */
export type Shell = (typeof SHELLS)[number];

/** What `okesu __complete` prints instead of candidates when the word is a path: the shell completes files itself. */
export const FILES_MARKER = '__okesu_files__';

// Each script is a thin shim: the words typed so far go to `okesu __complete`, which reads okesu's own command tree
// (and asks the CP for host, agent and run names with a short timeout), and prints one candidate per line.
const BASH = `# okesu completion for bash. Load it now:   source <(okesu completion bash)
# or for every shell:   okesu completion bash > ~/.local/share/bash-completion/completions/okesu
_okesu_complete() {
  local cur=\${COMP_WORDS[COMP_CWORD]} out IFS=$'\\n'
  out=$(command okesu __complete --shell bash -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
  if [[ $out == ${FILES_MARKER} ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
    compopt -o filenames 2>/dev/null
    return 0
  fi
  COMPREPLY=($(compgen -W "$out" -- "$cur"))
}
complete -F _okesu_complete okesu
`;

const ZSH = `#compdef okesu
# okesu completion for zsh. Load it now:   source <(okesu completion zsh)
# or install it:   okesu completion zsh > "\${fpath[1]}/_okesu"   (then start a new shell)
_okesu() {
  local -a lines values descriptions
  local line
  lines=("\${(@f)$(command okesu __complete --shell zsh -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if [[ "\${lines[1]}" == ${FILES_MARKER} ]]; then
    _files
    return
  fi
  for line in "\${lines[@]}"; do
    [[ -z "$line" ]] && continue
    values+=("\${line%%$'\\t'*}")
    if [[ "$line" == *$'\\t'* ]]; then descriptions+=("\${line%%$'\\t'*}  -- \${line#*$'\\t'}"); else descriptions+=("\${line}"); fi
  done
  (( \${#values} )) && compadd -l -d descriptions -- "\${values[@]}"
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
  _okesu "$@"
else
  (( $+functions[compdef] )) || { autoload -Uz compinit && compinit -u; }
  compdef _okesu okesu
fi
`;

const FISH = `# okesu completion for fish. Load it now:   okesu completion fish | source
# or install it:   okesu completion fish > ~/.config/fish/completions/okesu.fish
function __okesu_complete
    set -l words (commandline -opc)
    set -e words[1]
    set -l out (command okesu __complete --shell fish -- $words (commandline -ct) 2>/dev/null)
    if test "$out" = "${FILES_MARKER}"
        __fish_complete_path (commandline -ct)
    else
        printf '%s\\n' $out
    end
end
complete -c okesu -f -a '(__okesu_complete)'
`;

/** The completion script of `shell`. */
export function completionScript(shell: Shell): string {
  return shell === 'bash' ? BASH : shell === 'zsh' ? ZSH : FISH;
}
