import type { HeldSecret, SecretStore } from './secret-store.js';
import { MIN_REDACTED_LENGTH } from './secret-store.js';

/** Replaces the secrets a store holds wherever they appear. */
export interface Redactor {
  /** `text` with each held secret replaced by its marker; the same string when it holds none. */
  text(text: string): string;
  /**
   * `value` with every string in it — values and object keys, at any depth — redacted. Unchanged values come back
   * as they are (same reference); a changed one is a copy: the input is never modified.
   */
  value<T>(value: T): T;
  /**
   * False when `json` (a JSON text, e.g. a serialised event) surely holds no part of a secret that `value` would
   * redact: no held secret's first MIN_REDACTED_LENGTH characters occur in it. Then `value` of what was serialised
   * would return it unchanged, so a caller may skip the walk. True means "maybe": redact to find out.
   */
  mayChange(json: string): boolean;
}

/** The marker a secret's value is replaced with, e.g. `[REDACTED:ANTHROPIC_API_KEY]`. */
export const redactionMarker = (name: string): string => `[REDACTED:${name}]`;

interface Matcher {
  generation: number;
  /** One alternation of every secret, escaped, longest first (so a secret inside a longer one loses). */
  all?: RegExp;
  byValue: Map<string, string>;
  secrets: readonly HeldSecret[];
  shortest: number;
  /**
   * Every secret's first MIN_REDACTED_LENGTH characters, which any match and any cut tail contains; undefined when
   * one of them would read differently inside a JSON string (a quote, backslash, control character or surrogate),
   * so that a search of JSON text could miss it.
   */
  heads?: string[];
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

// True when JSON.stringify writes some character of `s` as an escape (a quote, backslash, control character or
// lone surrogate): then `s` does not occur as it is in JSON text holding it. Surrogates count even when paired.
const jsonEscapes = (s: string): boolean => JSON.stringify(s) !== `"${s}"` || /[\ud800-\udfff]/.test(s);

function buildMatcher(store: Pick<SecretStore, 'held' | 'generation'>): Matcher {
  const secrets = [...store.held()].filter((s) => s.value.length >= MIN_REDACTED_LENGTH).sort((a, b) => b.value.length - a.value.length);
  const heads = [...new Set(secrets.map((s) => s.value.slice(0, MIN_REDACTED_LENGTH)))];
  return {
    ...(!heads.some(jsonEscapes) && { heads }),
    generation: store.generation(),
    ...(secrets.length > 0 && { all: new RegExp(secrets.map((s) => escapeRegExp(s.value)).join('|'), 'g') }),
    byValue: new Map(secrets.map((s) => [s.value, s.name])),
    secrets,
    shortest: secrets.at(-1)?.value.length ?? Infinity,
  };
}

/**
 * Where the string ends in the first MIN_REDACTED_LENGTH or more characters of a secret (optionally followed by `…`),
 * the start of that tail and the secret's name. Every cut the daimon makes (a long line, a quoted raw line, an
 * event over the size limit) keeps the head of a string, so a secret cut in half shows up only here.
 */
function cutTail(text: string, secrets: readonly HeldSecret[]): { at: number; name: string } | undefined {
  const end = text.endsWith('…') ? text.length - 1 : text.length;
  let best: { at: number; name: string } | undefined;
  for (const { name, value } of secrets) {
    const head = value.slice(0, MIN_REDACTED_LENGTH);
    let from = Math.max(0, end - value.length + 1);
    for (;;) {
      const at = text.indexOf(head, from);
      if (at === -1 || at > end - MIN_REDACTED_LENGTH) break;
      if (value.startsWith(text.slice(at, end))) {
        if (!best || at < best.at) best = { at, name };
        break;
      }
      from = at + 1;
    }
  }
  return best;
}

/**
 * Builds a redactor over the secrets `store` holds now and later (its matcher is rebuilt when the store grows).
 * One regular-expression pass per string over the escaped secrets, plus a check of the string's tail for a cut
 * secret; strings shorter than the shortest secret are skipped outright.
 */
export function createRedactor(store: Pick<SecretStore, 'held' | 'generation'>): Redactor {
  let matcher = buildMatcher(store);
  const current = (): Matcher => {
    if (matcher.generation !== store.generation()) matcher = buildMatcher(store);
    return matcher;
  };

  const text = (input: string): string => {
    const m = current();
    if (!m.all || input.length < MIN_REDACTED_LENGTH) return input;
    let out = input.length < m.shortest ? input : input.replace(m.all, (found) => redactionMarker(m.byValue.get(found) ?? 'SECRET'));
    const tail = cutTail(out, m.secrets);
    if (tail) out = `${out.slice(0, tail.at)}${redactionMarker(tail.name)}${out.endsWith('…') ? '…' : ''}`;
    return out;
  };

  return {
    text,
    value<T>(value: T): T {
      if (!current().all) return value;
      return needsRedaction(value, text) ? (copyRedacted(value, text) as T) : value;
    },
    mayChange(json) {
      const m = current();
      if (!m.all) return false;
      if (!m.heads) return true;
      for (const head of m.heads) if (json.includes(head)) return true;
      return false;
    },
  };
}

/** Whether any string in `root` (values or keys) changes under `text`. Iterative: a deeply nested value cannot overflow the stack. */
function needsRedaction(root: unknown, text: (s: string) => string): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      if (text(value) !== value) return true;
    } else if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (text(k) !== k) return true;
        stack.push(v);
      }
    }
  }
  return false;
}

/** A deep copy of `root` with every string redacted; iterative, like needsRedaction. */
function copyRedacted(root: unknown, text: (s: string) => string): unknown {
  const copyOf = (value: unknown): unknown => {
    if (typeof value === 'string') return text(value);
    if (Array.isArray(value)) return new Array<unknown>(value.length);
    if (value !== null && typeof value === 'object') return {};
    return value;
  };
  const top = { root: copyOf(root) };
  const stack: { from: unknown; to: unknown }[] = [{ from: root, to: top.root }];
  while (stack.length > 0) {
    const { from, to } = stack.pop() as { from: unknown; to: unknown };
    if (Array.isArray(from)) {
      const target = to as unknown[];
      from.forEach((item, i) => {
        target[i] = copyOf(item);
        if (item !== null && typeof item === 'object') stack.push({ from: item, to: target[i] });
      });
    } else if (from !== null && typeof from === 'object') {
      const target = to as Record<string, unknown>;
      for (const [k, v] of Object.entries(from)) {
        const copied = copyOf(v);
        // A key that redacts to one already present keeps both values apart rather than losing one.
        let key = text(k);
        while (Object.hasOwn(target, key)) key = `${key}_`;
        // defineProperty, not assignment: a `__proto__` key from parsed JSON stays a plain key.
        Object.defineProperty(target, key, { value: copied, enumerable: true, writable: true, configurable: true });
        if (v !== null && typeof v === 'object') stack.push({ from: v, to: copied });
      }
    }
  }
  return top.root;
}
