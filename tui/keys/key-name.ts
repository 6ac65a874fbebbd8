import type { Key } from 'ink';

/** The part of Ink's `Key` we read (tests can pass a partial one). */
export type InkKey = Partial<Pick<Key, 'upArrow' | 'downArrow' | 'leftArrow' | 'rightArrow' | 'pageUp' | 'pageDown' | 'home' | 'end' | 'return' | 'escape' | 'ctrl' | 'shift' | 'tab' | 'backspace' | 'delete' | 'meta'>>;

/**
 * Turns one Ink `useInput(input, key)` call into the key names of bindings.ts (`j`, `G`, `enter`, `esc`, `tab`,
 * `shift+tab`, `up`, `pagedown`, `ctrl+c`, `backspace`…), in order. Returns a list because `input` may hold several
 * keys when they arrive in one chunk (`jjj`, or text pasted into a prompt); Ink only splits escape sequences.
 */
export function keyNames(input: string, key: InkKey): string[] {
  const special = specialKey(key);
  if (special !== undefined) return [special];
  if (key.ctrl === true && input.length === 1) return [`ctrl+${input.toLowerCase()}`];
  const names: string[] = [];
  for (const ch of input) {
    const name = charName(ch);
    if (name !== undefined) names.push(name);
  }
  return names;
}

function specialKey(key: InkKey): string | undefined {
  if (key.upArrow) return 'up';
  if (key.downArrow) return 'down';
  if (key.leftArrow) return 'left';
  if (key.rightArrow) return 'right';
  if (key.pageUp) return 'pageup';
  if (key.pageDown) return 'pagedown';
  if (key.home) return 'home';
  if (key.end) return 'end';
  if (key.return) return 'enter';
  if (key.escape) return 'esc';
  if (key.tab) return key.shift ? 'shift+tab' : 'tab';
  if (key.backspace) return 'backspace';
  if (key.delete) return 'delete';
  return undefined;
}

/** One character of a chunk: printable as itself, controls by name, anything else unnamed (dropped). */
function charName(ch: string): string | undefined {
  switch (ch) {
    case '\r':
    case '\n':
      return 'enter';
    case '\t':
      return 'tab';
    case '\u001B':
      return 'esc';
    case '\u007F':
    case '\b':
      return 'backspace';
  }
  const code = ch.codePointAt(0)!;
  if (code >= 1 && code <= 26) return `ctrl+${String.fromCharCode(code + 96)}`;
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return undefined;
  return ch;
}

/** True for a name that is a typed character (goes into a prompt's text) rather than a named key. */
export function isPrintable(name: string): boolean {
  return [...name].length === 1;
}
