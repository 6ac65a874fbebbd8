import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatToken, parseToken, type ParsedToken, type TokenKind } from '../../src/protocol/tokens.js';
import { budget } from './budget.js';

const hex = (length: number): fc.Arbitrary<string> => fc.stringMatching(new RegExp(`^[0-9a-f]{${length}}$`));
const pin = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/);
const kind = fc.constantFrom<TokenKind>('operator', 'join', 'host');
const validToken = fc.record({ kind, id: hex(16), secret: hex(64), pin }).map(
  (t): ParsedToken => (t.kind === 'join' ? t : { kind: t.kind, id: t.id, secret: t.secret }),
);

describe('join tokens, operator tokens and host credentials (property)', () => {
  it('parseToken never throws on any text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 })), kind, (text, k) => {
        const parsed = parseToken(text, k);
        if (parsed) expect(parsed.kind).toBe(k);
      }),
      budget(2000),
    );
  });

  it('valid tokens round-trip through formatToken and parseToken, surrounding white space allowed', () => {
    fc.assert(
      fc.property(validToken, fc.constantFrom('', ' ', '\n', '\t '), (token, pad) => {
        expect(parseToken(`${pad}${formatToken(token)}${pad}`, token.kind)).toEqual(token);
      }),
      budget(500),
    );
  });

  it('a token of one kind is never accepted as another kind', () => {
    fc.assert(
      fc.property(validToken, kind, (token, other) => {
        fc.pre(other !== token.kind);
        expect(parseToken(formatToken(token), other)).toBeUndefined();
      }),
      budget(300),
    );
  });

  it('any one-character change to a valid token is refused or parses to a different token', () => {
    fc.assert(
      fc.property(validToken, fc.nat(), fc.string({ minLength: 1, maxLength: 1 }), (token, at, ch) => {
        const text = formatToken(token);
        const i = at % text.length;
        fc.pre(text[i] !== ch);
        const mutated = `${text.slice(0, i)}${ch}${text.slice(i + 1)}`;
        const parsed = parseToken(mutated, token.kind);
        if (parsed) expect(parsed).not.toEqual(token);
      }),
      budget(500),
    );
  });
});
