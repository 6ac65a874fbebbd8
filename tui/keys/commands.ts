import type { RootView } from '../store/ui-state.js';
import { flashEvent, type KeyContext } from './key-context.js';

/** `:` command aliases → the root view they jump to, or `quit`. */
export const COMMANDS: Readonly<Record<string, RootView | 'quit'>> = {
  fleet: 'fleet',
  hosts: 'fleet',
  host: 'fleet',
  findings: 'findings',
  finding: 'findings',
  runs: 'runs',
  run: 'runs',
  dispatch: 'dispatch',
  rollouts: 'rollouts',
  rollout: 'rollouts',
  upgrade: 'rollouts',
  q: 'quit',
  quit: 'quit',
  'q!': 'quit',
};

/** Runs a `:` command line (`fleet`, `:findings`, `q`…); an unknown one flashes the known ones. */
export function runCommand(text: string, ctx: KeyContext): void {
  const word = text.trim().replace(/^:/, '').trim().toLowerCase();
  if (word === '') return;
  const target = Object.hasOwn(COMMANDS, word) ? COMMANDS[word] : undefined;
  if (target === 'quit') return ctx.actions.quit();
  if (target !== undefined) return ctx.dispatch({ type: 'ui/jump', view: target });
  ctx.dispatch(flashEvent(`unknown command :${word} — try :fleet :findings :runs :dispatch :rollouts :q`, 'warn', ctx.now()));
}
