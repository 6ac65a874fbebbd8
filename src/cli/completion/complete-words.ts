import type { Argument, Command, Option } from 'commander';
import { CATEGORIES, SEVERITIES } from '../../protocol/finding.js';

/** Values the CP knows, fetched (with a short timeout) when a word completes to one of them. */
export type LiveKind = 'hosts' | 'agents' | 'runs';

/** What the current word completes to: fixed candidates, the CP's live values of a kind, or paths. */
export type Completion =
  | { kind: 'words'; candidates: Candidate[] }
  /** The CP's values of `live` that start with `prefix`, each written after `head` (e.g. `web-01,` in `--hosts web-01,we`), and `also`. */
  | { kind: 'live'; live: LiveKind; prefix: string; head: string; also: Candidate[] }
  | { kind: 'files' };

/** One candidate and, where there is one, its description (zsh and fish show it). */
export interface Candidate {
  value: string;
  description?: string;
}

/** Commands that never show up as candidates (the completion protocol itself). */
export const HIDDEN_COMMANDS = new Set(['__complete']);

// Option names (long, without --) whose value is a host, an agent or a run, or a path.
const LIVE_OPTIONS: Record<string, LiveKind> = { host: 'hosts', hosts: 'hosts', agent: 'agents' };
// Options whose values are a fixed set their parser checks (rather than commander's choices).
const FIXED_VALUES: Record<string, readonly string[]> = { severity: SEVERITIES.map((x) => x.toLowerCase()), category: CATEGORIES };
const FILE_OPTION = /(^|-)(file|dir|config|policy|out|state|key|agents|artifact|signed|cert|ca)$/;
// Positional arguments, by name.
const LIVE_ARGS: Record<string, LiveKind> = { host: 'hosts', agent: 'agents', run: 'runs' };
const FILE_ARG = /^(file|artifact)$/;

/**
 * What `words` (the words after `okesu`, the last one being completed, possibly empty) completes to, read from the
 * program's own commands, options, choices and arguments — so a new command or flag completes with no change here.
 */
export function completeWords(program: Command, words: readonly string[]): Completion {
  const cur = words.at(-1) ?? '';
  let cmd = program;
  let positional = 0;
  let pendingValue: Option | undefined;
  for (const word of words.slice(0, -1)) {
    if (pendingValue) {
      pendingValue = undefined;
      continue;
    }
    if (word === '--') break;
    if (word.startsWith('-')) {
      const opt = findOption(cmd, word);
      if (opt && takesValue(opt) && !word.includes('=')) pendingValue = opt;
      continue;
    }
    const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub && positional === 0) {
      cmd = sub;
      continue;
    }
    positional++;
  }
  if (pendingValue) return valuesOf(pendingValue, cur);
  if (cur.startsWith('-')) {
    const eq = cur.indexOf('=');
    if (eq > 0) {
      const opt = findOption(cmd, cur.slice(0, eq));
      return opt ? prefixed(valuesOf(opt, cur.slice(eq + 1)), cur.slice(0, eq + 1)) : { kind: 'words', candidates: [] };
    }
    return { kind: 'words', candidates: filter(optionCandidates(cmd), cur) };
  }
  const subs = positional === 0 ? filter(subcommandCandidates(cmd), cur) : [];
  const arg = argumentAt(cmd, positional);
  if (arg) {
    const choices = arg.argChoices;
    if (choices) return { kind: 'words', candidates: [...subs, ...filter(choices.map((value) => ({ value })), cur)] };
    const live = LIVE_ARGS[arg.name()];
    if (live) return { kind: 'live', live, prefix: cur, head: '', also: subs };
    if (FILE_ARG.test(arg.name()) && subs.length === 0) return { kind: 'files' };
  }
  return { kind: 'words', candidates: subs };
}

function findOption(cmd: Command, flag: string): Option | undefined {
  const name = flag.split('=')[0];
  // An option of this command or of one it is nested in (commander reads those before the subcommand too).
  for (let c: Command | null = cmd; c; c = c.parent) {
    const opt = c.options.find((o) => o.long === name || o.short === name);
    if (opt) return opt;
  }
  return undefined;
}

const takesValue = (opt: Option): boolean => opt.required || opt.optional;

function valuesOf(opt: Option, cur: string): Completion {
  const long = (opt.long ?? '').replace(/^--/, '');
  const fixed = opt.argChoices ?? FIXED_VALUES[long];
  if (fixed) return { kind: 'words', candidates: filter(fixed.map((value) => ({ value })), cur) };
  const live = LIVE_OPTIONS[long];
  // `--hosts a,b,c`: complete the last name of the list.
  if (live) {
    const head = long === 'hosts' ? cur.slice(0, cur.lastIndexOf(',') + 1) : '';
    return { kind: 'live', live, prefix: cur.slice(head.length), head, also: [] };
  }
  if (FILE_OPTION.test(long)) return { kind: 'files' };
  return { kind: 'words', candidates: [] };
}

/** Puts `head` before every candidate (e.g. `--output=`, or the names of a list already typed). */
function prefixed(c: Completion, head: string): Completion {
  if (head === '') return c;
  if (c.kind === 'words') return { kind: 'words', candidates: c.candidates.map((x) => ({ ...x, value: head + x.value })) };
  if (c.kind === 'live') return { ...c, head: head + c.head };
  return c;
}

function optionCandidates(cmd: Command): Candidate[] {
  const out: Candidate[] = [];
  for (const o of [...cmd.options, ...helpOption()]) {
    if (o.hidden) continue;
    if (o.long) out.push({ value: o.long, description: o.description });
  }
  return out;
}

const helpOption = (): { long: string; description: string; hidden: boolean }[] => [{ long: '--help', description: 'show help', hidden: false }];

function subcommandCandidates(cmd: Command): Candidate[] {
  return cmd.commands.filter((c) => !HIDDEN_COMMANDS.has(c.name())).map((c) => ({ value: c.name(), description: c.description() }));
}

function argumentAt(cmd: Command, index: number): Argument | undefined {
  const args = cmd.registeredArguments;
  const last = args.at(-1);
  return args[index] ?? (last?.variadic ? last : undefined);
}

function filter(candidates: readonly Candidate[], cur: string): Candidate[] {
  return candidates.filter((c) => c.value.startsWith(cur));
}
