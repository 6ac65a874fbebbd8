import { describe, expect, it } from 'vitest';
import { splitFrontmatter } from '../../src/specs/frontmatter.js';

describe('splitFrontmatter', () => {
  it.each([
    ['a plain file', '---\na: 1\nb: 2\n---\nbody\n', { yaml: 'a: 1\nb: 2', firstLine: 2, body: 'body' }],
    ['CRLF and a BOM', '\uFEFF---\r\na: 1\r\n---\r\n\r\nbody\r\n', { yaml: 'a: 1', firstLine: 2, body: 'body' }],
    ['fences with trailing spaces', '--- \na: 1\n---\t\nbody', { yaml: 'a: 1', firstLine: 2, body: 'body' }],
    ['an empty body', '---\na: 1\n---\n', { yaml: 'a: 1', firstLine: 2, body: '' }],
    ['a --- inside the body', '---\na: 1\n---\nx\n---\ny', { yaml: 'a: 1', firstLine: 2, body: 'x\n---\ny' }],
  ])('splits %s', (_label, text, split) => {
    expect(splitFrontmatter(text)).toEqual({ ok: true, split });
  });

  it.each([
    ['no fence', 'body only\n', /must start with a --- line/],
    ['a fence not on the first line', '\n---\na: 1\n---\n', /must start with a --- line/],
    ['no closing fence', '---\na: 1\n', /not closed/],
  ])('rejects %s', (_label, text, message) => {
    const r = splitFrontmatter(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.line).toBe(1);
      expect(r.error.message).toMatch(message);
    }
  });
});
