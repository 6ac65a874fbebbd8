import { currentFrame } from '../store/reduce-ui.js';
import { frameKey, type Prompt } from '../store/ui-state.js';
import type { Binding } from './bindings.js';
import { runCommand } from './commands.js';
import { isPrintable } from './key-name.js';
import { flashEvent, type KeyContext } from './key-context.js';
import { isDisabled, resolveKey } from './resolve-key.js';
import { activeScopes } from './scopes.js';

/**
 * Handles one named key (key-name.ts) for the whole console, in this order: ctrl+c quits; the help overlay, the
 * confirm line and the prompt take keys while open; then the key is resolved in the active scopes — a disabled one
 * flashes why, a global one is done here, the rest goes to the current view (view-keys.tsx).
 */
export function handleKey(name: string, ctx: KeyContext): void {
  const state = ctx.getState();
  const { ui } = state;
  const view = ctx.view.current;
  if (name === 'ctrl+c') return ctx.actions.quit();
  if (ui.help) return helpKey(name, ctx);
  if (ui.confirm !== null) {
    const { bindingId, payload } = ui.confirm;
    if (name === 'y' || name === 'Y') {
      ctx.dispatch({ type: 'ui/confirm', confirm: null });
      view?.onConfirm?.(bindingId, payload, ctx.getState());
    } else if (name === 'n' || name === 'N' || name === 'esc') {
      ctx.dispatch({ type: 'ui/confirm', confirm: null });
    }
    return;
  }
  if (ui.prompt !== null) return promptKey(name, ui.prompt, ctx);
  const resolved = resolveKey(name, activeScopes(ui), state.me?.role ?? null);
  if (isDisabled(resolved)) {
    ctx.dispatch(flashEvent(`${name}: ${resolved.binding.label} — ${resolved.disabled}`, 'warn', ctx.now()));
    return;
  }
  if (view?.capture === true) {
    view.onKey?.(resolved?.scope === 'global' ? undefined : resolved, name, state);
    return;
  }
  if (resolved === undefined) return;
  if (resolved.scope !== 'global' || resolved.id === 'global.open') {
    view?.onKey?.(resolved, name, state);
    return;
  }
  globalKey(resolved, ctx);
}

function globalKey(binding: Binding, ctx: KeyContext): void {
  const { ui } = ctx.getState();
  const frame = currentFrame(ui);
  switch (binding.id) {
    case 'global.help':
      ctx.help.set(0);
      return ctx.dispatch({ type: 'ui/help', open: true });
    case 'global.filter':
      return ctx.dispatch({ type: 'ui/prompt', prompt: { kind: 'filter', text: ui.filters[frameKey(frame)] ?? '' } });
    case 'global.command':
      return ctx.dispatch({ type: 'ui/prompt', prompt: { kind: 'command', text: '' } });
    case 'global.back':
      // esc first drops the frame's filter, then pops the stack.
      if ((ui.filters[frameKey(frame)] ?? '') !== '') return ctx.dispatch({ type: 'ui/filter', text: '' });
      return ctx.dispatch({ type: 'ui/pop' });
    case 'global.quit':
      return ctx.actions.quit();
    case 'global.fleet':
      return ctx.dispatch({ type: 'ui/jump', view: 'fleet' });
    case 'global.findings':
      return ctx.dispatch({ type: 'ui/jump', view: 'findings' });
    case 'global.runs':
      return ctx.dispatch({ type: 'ui/jump', view: 'runs' });
    case 'global.dispatch':
      return ctx.dispatch({ type: 'ui/jump', view: 'dispatch' });
    case 'global.refresh':
      ctx.actions.refresh();
      return ctx.dispatch(flashEvent('reloading from the CP…', 'info', ctx.now()));
    default:
      return moveSelection(binding.id, ctx);
  }
}

/** j/k/g/G/pageup/pagedown within the row count the view registered (nothing when it registered none). */
function moveSelection(id: string, ctx: KeyContext): void {
  const rows = ctx.view.current?.rows;
  if (rows === undefined || rows <= 0) return;
  const page = Math.max(1, ctx.view.current?.page ?? 10);
  const { ui } = ctx.getState();
  const at = Math.max(0, Math.min(ui.selection[frameKey(currentFrame(ui))] ?? 0, rows - 1));
  const to: Record<string, number> = {
    'global.down': at + 1,
    'global.up': at - 1,
    'global.top': 0,
    'global.bottom': rows - 1,
    'global.pagedown': at + page,
    'global.pageup': at - page,
  };
  const next = to[id];
  if (next === undefined) return;
  const index = Math.max(0, Math.min(next, rows - 1));
  if (index !== at || (ui.selection[frameKey(currentFrame(ui))] ?? 0) !== at) ctx.dispatch({ type: 'ui/select', index });
}

function promptKey(name: string, prompt: Prompt, ctx: KeyContext): void {
  const filter = prompt.kind === 'filter';
  const setText = (text: string): void => {
    ctx.dispatch({ type: 'ui/prompt', prompt: { kind: prompt.kind, text } });
    if (filter) ctx.dispatch({ type: 'ui/filter', text });
  };
  if (name === 'enter') {
    ctx.dispatch({ type: 'ui/prompt', prompt: null });
    if (!filter) runCommand(prompt.text, ctx);
  } else if (name === 'esc') {
    ctx.dispatch({ type: 'ui/prompt', prompt: null });
    if (filter) ctx.dispatch({ type: 'ui/filter', text: '' });
  } else if (name === 'backspace' || name === 'delete') {
    setText([...prompt.text].slice(0, -1).join(''));
  } else if (name === 'ctrl+u') {
    setText('');
  } else if (isPrintable(name)) {
    setText(prompt.text + name);
  }
}

const HELP_STEP: Record<string, number> = { j: 1, down: 1, k: -1, up: -1, pagedown: 10, 'ctrl+f': 10, ' ': 10, pageup: -10, 'ctrl+b': -10 };

function helpKey(name: string, ctx: KeyContext): void {
  if (name === '?' || name === 'esc' || name === 'q') return ctx.dispatch({ type: 'ui/help', open: false });
  if (name === 'g' || name === 'home') return ctx.help.set(0);
  if (name === 'G' || name === 'end') return ctx.help.set(Number.MAX_SAFE_INTEGER);
  const step = HELP_STEP[name];
  if (step !== undefined) ctx.help.set(Math.max(0, ctx.help.get() + step));
}
