/**
 * Plain commands: command text that `sh -c` runs exactly as its words say. With none of the characters below, the
 * shell does no quoting, expansion, globbing, redirection, chaining or substitution, so the command is the argv
 * its blank-separated words spell, and its first word names the executable (after a PATH lookup) — which is what
 * the host policy's `allow_executables` can then hold to.
 */

// Quotes and escapes, expansions ($, `, ~, globs, braces), operators (; | & < > ( )), comments, history, and `^`
// (a pipe in old Bourne shells). Control characters and line breaks are refused separately.
const META = new Set([...`'"\\$\`;|&<>()*?[]{}~!#^`]);

// Words the shell runs itself rather than an executable of that name (dash, bash and busybox ash), and that can run
// other commands or change how later ones run. echo, printf, true, false, pwd, test and kill are builtins too, but
// do what their executables do and start nothing else: they are judged as the executable the PATH lookup finds.
const SHELL_OWN = new Set([
  '.', ':', 'alias', 'bg', 'bind', 'break', 'builtin', 'caller', 'case', 'cd', 'chdir', 'command', 'compgen', 'complete', 'compopt',
  'continue', 'coproc', 'declare', 'dirs', 'disown', 'do', 'done', 'elif', 'else', 'enable', 'esac', 'eval', 'exec', 'exit', 'export',
  'fc', 'fg', 'fi', 'for', 'function', 'getopts', 'hash', 'help', 'history', 'if', 'in', 'jobs', 'let', 'local', 'logout', 'mapfile',
  'popd', 'pushd', 'read', 'readarray', 'readonly', 'return', 'select', 'set', 'shift', 'shopt', 'source', 'suspend', 'then', 'time',
  'times', 'trap', 'type', 'typeset', 'ulimit', 'umask', 'unalias', 'unset', 'until', 'wait', 'while',
]);

/** The words of a plain command, or why the shell would do more with it than run them. */
export type PlainCommand = { ok: true; words: string[] } | { ok: false; reason: string };

const describeChar = (ch: string): string => {
  const code = ch.codePointAt(0) ?? 0;
  return code < 0x20 || code === 0x7f ? `a control character (0x${code.toString(16).padStart(2, '0')})` : `"${ch}"`;
};

/** Splits a command into words when it is plain (see the module comment); otherwise says which character or word is not. */
export function plainCommand(command: string): PlainCommand {
  for (const ch of command) {
    const code = ch.codePointAt(0) ?? 0;
    if (META.has(ch) || ((code < 0x20 || code === 0x7f) && ch !== ' ' && ch !== '\t')) {
      return { ok: false, reason: `it contains ${describeChar(ch)}, which the shell interprets (only plain words separated by spaces are allowed)` };
    }
  }
  const words = command.split(/[ \t]+/).filter((w) => w !== '');
  const first = words[0];
  if (first === undefined) return { ok: false, reason: 'it is empty' };
  if (first.includes('=')) return { ok: false, reason: `it starts with a variable assignment (${first})` };
  if (SHELL_OWN.has(first)) return { ok: false, reason: `${first} is run by the shell itself, not an executable; write the executable's path` };
  return { ok: true, words };
}
