/** What a pattern is matched against: a shell command, a file path, or a name (agent, tool). */
export type PatternKind = 'command' | 'path' | 'name';

type Token =
  | { t: 'lit'; ch: string }
  | { t: 'one'; slash: boolean } // `?` (matches `/` when `slash`)
  | { t: 'star'; slash: boolean } // `*` (crosses `/` when `slash`) or `**`
  | { t: 'fork' }; // consumes nothing: continue at the next token, or skip the next two (`**/` in a path may be empty)

const MAX_CACHED = 512;
const compiled = new Map<string, Token[] | RegExp | undefined>();

/** True when `pattern` is written `/…/` and is therefore a regular expression (commands and names only). */
export function isRegexPattern(pattern: string, kind: PatternKind): boolean {
  return kind !== 'path' && pattern.length > 2 && pattern.startsWith('/') && pattern.endsWith('/');
}

/** Why `pattern` can never match as intended (a regex that does not compile, a relative path), or undefined when it is fine. */
export function patternError(pattern: string, kind: PatternKind): string | undefined {
  if (pattern === '') return 'must not be empty';
  if (isRegexPattern(pattern, kind)) {
    try {
      new RegExp(pattern.slice(1, -1));
    } catch (err) {
      return `invalid regular expression: ${(err as Error).message}`;
    }
    return undefined;
  }
  if (kind === 'path' && !pattern.startsWith('/') && !pattern.startsWith('**')) {
    return 'paths are matched as absolute paths: start the pattern with / or **';
  }
  return undefined;
}

/**
 * Matches `subject` against a pattern. A glob matches the WHOLE subject: `?` is one character, `*` any run of
 * characters and `**` any run including `/`. For `path`, `*` and `?` stop at `/`, and `**` followed by `/` may
 * also stand for no directory at all (`/a/` + `**` + `/b` matches `/a/b`). For `command` and `name`, a pattern
 * written `/…/` is a regular expression tested anywhere in the subject. An invalid regex matches nothing (the
 * policy loader reports it; the gate treats it as matching, so a broken deny rule fails closed).
 */
export function matchPattern(pattern: string, subject: string, kind: PatternKind): boolean {
  const compiledPattern = compile(pattern, kind);
  if (compiledPattern === undefined) return false;
  if (compiledPattern instanceof RegExp) return compiledPattern.test(subject);
  return runGlob(compiledPattern, subject);
}

function compile(pattern: string, kind: PatternKind): Token[] | RegExp | undefined {
  const key = `${kind}\0${pattern}`;
  if (compiled.has(key)) return compiled.get(key);
  let result: Token[] | RegExp | undefined;
  if (isRegexPattern(pattern, kind)) {
    try {
      result = new RegExp(pattern.slice(1, -1));
    } catch {
      result = undefined;
    }
  } else {
    result = tokenize(pattern, kind);
  }
  if (compiled.size >= MAX_CACHED) compiled.clear();
  compiled.set(key, result);
  return result;
}

function tokenize(pattern: string, kind: PatternKind): Token[] {
  const chars = Array.from(pattern);
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === '?') {
      tokens.push({ t: 'one', slash: kind !== 'path' });
    } else if (ch === '*') {
      let run = 1;
      while (chars[i + 1] === '*') {
        run++;
        i++;
      }
      const atSegmentStart = i - run < 0 || chars[i - run] === '/';
      if (kind === 'path' && run >= 2 && atSegmentStart && chars[i + 1] === '/') {
        // `**/` is `(.*/)?`: a fork that either enters `**` then `/`, or skips both.
        tokens.push({ t: 'fork' }, { t: 'star', slash: true }, { t: 'lit', ch: '/' });
        i++;
      } else {
        tokens.push({ t: 'star', slash: kind !== 'path' || run >= 2 });
      }
    } else {
      tokens.push({ t: 'lit', ch });
    }
  }
  return tokens;
}

/** Simulates the pattern as an automaton over the subject: time O(subject × pattern), no backtracking blow-up. */
function runGlob(tokens: Token[], subject: string): boolean {
  const n = tokens.length;
  let active = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  active[0] = 1;
  close(tokens, active);
  for (const ch of subject) {
    next.fill(0);
    let any = false;
    for (let i = 0; i < n; i++) {
      if (!active[i]) continue;
      const tok = tokens[i] as Token;
      switch (tok.t) {
        case 'lit':
          if (tok.ch === ch) next[i + 1] = 1;
          break;
        case 'one':
          if (tok.slash || ch !== '/') next[i + 1] = 1;
          break;
        case 'star':
          if (tok.slash || ch !== '/') next[i] = 1;
          break;
        case 'fork':
          break;
      }
    }
    close(tokens, next);
    for (let i = 0; i <= n && !any; i++) any = next[i] === 1;
    if (!any) return false;
    [active, next] = [next, active];
  }
  return active[n] === 1;
}

/** Adds the states reachable without consuming a character (a star, or `**` before `/`, may match nothing). */
function close(tokens: Token[], states: Uint8Array): void {
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i] as Token;
    if (!states[i]) continue;
    if (tok.t === 'star') states[i + 1] = 1;
    if (tok.t === 'fork') {
      states[i + 1] = 1;
      states[i + 3] = 1;
    }
  }
}
