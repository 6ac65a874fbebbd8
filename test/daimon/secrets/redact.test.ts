import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { inspect } from 'node:util';
import { createRedactor, redactionMarker } from '../../../daimon/secrets/redact.js';
import { createSecretStore } from '../../../daimon/secrets/secret-store.js';
import { holdIdentitySecrets, holdJoinToken } from '../../../daimon/secrets/hold-identity.js';

const ANT = 'sk-ant-api03-AbCdEfGh0123456789';
const OAI = 'sk-proj-ZyXwVu9876543210';
const store = () => createSecretStore({ ANTHROPIC_API_KEY: ANT, OPENAI_API_KEY: OAI, ANTHROPIC_BASE_URL: 'https://proxy.example/anthropic' });
const A = redactionMarker('ANTHROPIC_API_KEY');
const O = redactionMarker('OPENAI_API_KEY');

describe('redactor: strings', () => {
  const r = createRedactor(store());
  it.each<[string, string, string]>([
    ['a key alone', ANT, A],
    ['a key inside text', `key=${ANT}; done`, `key=${A}; done`],
    ['both keys, each twice', `${ANT} ${OAI} ${ANT}${OAI}`, `${A} ${O} ${A}${O}`],
    ['no secret: the same text', 'all quiet on web-1', 'all quiet on web-1'],
    ['the base URL is a setting, not a secret', 'https://proxy.example/anthropic', 'https://proxy.example/anthropic'],
    ['a cut key at the end (a capped line)', `leaked: ${ANT.slice(0, 20)}`, `leaked: ${A}`],
    ['a cut key before an ellipsis (a cut field)', `leaked: ${ANT.slice(0, 12)}…`, `leaked: ${A}…`],
    ['fewer than 8 characters of a key at the end stay', `prefix sk-ant-`, `prefix sk-ant-`],
    ['the start of a key in the middle stays (only cuts keep heads)', `${ANT.slice(0, 12)} and more`, `${ANT.slice(0, 12)} and more`],
  ])('%s', (_name, input, expected) => {
    expect(r.text(input)).toBe(expected);
  });

  it('treats a secret with regular-expression characters as plain text, and prefers the longer of two overlapping secrets', () => {
    const s = createSecretStore();
    s.hold('ODD', 'a.b*c+d?(x)[y]|z');
    s.hold('SHORT', 'inner-secret');
    s.hold('LONG', 'outer-inner-secret-value');
    const red = createRedactor(s);
    expect(red.text('a.b*c+d?(x)[y]|z aXbbbcd')).toBe('[REDACTED:ODD] aXbbbcd');
    expect(red.text('>outer-inner-secret-value< inner-secret')).toBe('>[REDACTED:LONG]< [REDACTED:SHORT]');
  });

  it('redacts the password of a base URL, not the rest of it', () => {
    const s = createSecretStore({ OPENAI_BASE_URL: 'https://proxy:hunter2hunter2@proxy.example/v1' });
    expect(createRedactor(s).text('post https://proxy:hunter2hunter2@proxy.example/v1/chat')).toBe('post https://proxy:[REDACTED:OPENAI_BASE_URL]@proxy.example/v1/chat');
  });

  it('ignores secrets shorter than 8 characters (they would redact common words)', () => {
    const s = createSecretStore({ ANTHROPIC_API_KEY: 'abc1234' });
    s.hold('PIN', 'admin');
    expect(s.held()).toEqual([]);
    expect(createRedactor(s).text('abc1234 admin')).toBe('abc1234 admin');
  });

  it('follows the store: a secret held after the redactor was built is redacted too', () => {
    const s = createSecretStore();
    const red = createRedactor(s);
    expect(red.text('okh_0123456789abcdef_late-secret-value')).toBe('okh_0123456789abcdef_late-secret-value');
    s.hold('OKESU_HOST_CREDENTIAL', 'late-secret-value');
    expect(red.text('okh_0123456789abcdef_late-secret-value')).toBe('okh_0123456789abcdef_[REDACTED:OKESU_HOST_CREDENTIAL]');
  });
});

describe('redactor: values', () => {
  const r = createRedactor(store());

  it('redacts strings and keys at any depth, copying only what changes and never touching the input', () => {
    const shared = { untouched: ['a', 'b'] };
    const input = { type: 'finding', title: `uses ${ANT}`, evidence: ['ok', { [OAI]: [1, `x${OAI}`] }], shared, n: 3, ok: true, none: null };
    const before = structuredClone(input);
    const out = r.value(input);
    expect(out).toEqual({ type: 'finding', title: `uses ${A}`, evidence: ['ok', { [O]: [1, `x${O}`] }], shared: { untouched: ['a', 'b'] }, n: 3, ok: true, none: null });
    expect(input).toEqual(before);
    expect(JSON.stringify(out)).not.toMatch(/sk-ant|sk-proj/);
  });

  it('returns the very same value when there is nothing to redact', () => {
    const input = { type: 'text', text: 'fine', deep: [{ a: 'b' }] };
    expect(r.value(input)).toBe(input);
  });

  it('keeps a `__proto__` key a plain key, and two keys that redact alike apart', () => {
    const input = JSON.parse(`{"__proto__": {"k": "${ANT}"}, "${ANT}": 1, "${A}": 2}`) as Record<string, unknown>;
    const out = r.value(input);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out).sort()).toEqual([A, `${A}_`, '__proto__'].sort());
    expect(JSON.stringify(out)).not.toContain(ANT);
  });

  it('walks a value nested 100 000 deep without overflowing the stack', () => {
    let deep: unknown = ANT;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    let out = r.value(deep);
    for (let i = 0; i < 100_000; i++) out = (out as unknown[])[0];
    expect(out).toBe(A);
  });
});

describe('redactor: properties', () => {
  const secretArb = fc.stringMatching(/^[A-Za-z0-9_-]{8,80}$/);
  // Text around the secret from another alphabet, so it cannot hold the secret by chance.
  const textArb = fc.string({ unit: fc.constantFrom(...' .,;:{}"\'\n\t…é日!'.split('')), maxLength: 200 });

  it('leaves no occurrence of a held secret in any text', () => {
    fc.assert(
      fc.property(secretArb, fc.array(textArb, { minLength: 1, maxLength: 5 }), (secret, parts) => {
        const s = createSecretStore();
        s.hold('S', secret);
        const out = createRedactor(s).text(parts.join(secret));
        expect(out).not.toContain(secret);
        expect(out.split('[REDACTED:S]').length - 1).toBe(parts.length - 1);
      }),
    );
  });

  it('leaves no head of 8 or more characters of a secret at the end of a cut text', () => {
    fc.assert(
      fc.property(secretArb, textArb, fc.nat(), fc.boolean(), (secret, before, cut, ellipsis) => {
        const keep = 8 + (cut % (secret.length - 7));
        const s = createSecretStore();
        s.hold('S', secret);
        const out = createRedactor(s).text(`${before}${secret.slice(0, keep)}${ellipsis ? '…' : ''}`);
        expect(out).not.toContain(secret.slice(0, 8));
      }),
    );
  });
});

describe('redactor: mayChange, the pre-check on JSON', () => {
  // Secrets mostly of token characters, sometimes with ones JSON escapes (then the check must always say maybe).
  const secretArb = fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9_-]{8,40}$/),
    fc.string({ unit: fc.constantFrom(...'ab"\\\n\u0001\ud83d\ude00é-'.split('')), minLength: 8, maxLength: 20 }),
  );
  const piece = (secret: string): fc.Arbitrary<string> =>
    fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.nat({ max: secret.length }).map((n) => secret.slice(0, n)),
      fc.nat({ max: secret.length }).map((n) => `${secret.slice(0, n)}…`),
      fc.constant(secret),
      fc.tuple(fc.string({ maxLength: 4 }), fc.constant(secret), fc.string({ maxLength: 4 })).map((p) => p.join('')),
    );
  const valueArb = (secret: string): fc.Arbitrary<unknown> =>
    fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, piece(secret), fc.integer(), fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(piece(secret), tie('node'), { maxKeys: 3 })),
    })).node;

  it('says no only where value() would change nothing', () => {
    let skipped = 0;
    fc.assert(
      fc.property(secretArb.chain((secret) => fc.tuple(fc.constant(secret), fc.array(secretArb, { maxLength: 2 }), valueArb(secret))), ([secret, others, value]) => {
        const s = createSecretStore();
        s.hold('S', secret);
        others.forEach((o, i) => s.hold(`O${i}`, o));
        const r = createRedactor(s);
        if (r.mayChange(JSON.stringify({ run_id: 'r_1', seq: 1, event: value }))) return;
        skipped++;
        expect(r.value(value)).toBe(value);
      }),
      { numRuns: 3000, seed: 5 },
    );
    expect(skipped).toBeGreaterThan(300);
  });

  it('says no for an event without secrets, and maybe when a secret hides behind a JSON escape', () => {
    const r = createRedactor(store());
    expect(r.mayChange(JSON.stringify({ type: 'finding', title: 'steady finding', attributes: { i: 1 } }))).toBe(false);
    expect(r.mayChange(JSON.stringify({ type: 'text', text: `cut ${ANT.slice(0, 9)}…` }))).toBe(true);
    const s = createSecretStore();
    s.hold('Q', 'ab"cdefghij');
    expect(createRedactor(s).mayChange('{}')).toBe(true);
  });
});

describe('holding the identity', () => {
  it('holds the secret part of the host credential and join token, and every line of the host key', () => {
    const s = createSecretStore();
    const secret = 'ab'.repeat(32);
    holdIdentitySecrets(s, {
      credential: `okh_0123456789abcdef_${secret}`,
      keyPem: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\nAB==\n-----END PRIVATE KEY-----\n',
    });
    holdJoinToken(s, `okj_0123456789abcdef_${'cd'.repeat(32)}_${'P'.repeat(43)}`);
    expect(s.held().map((h) => [h.name, h.value])).toEqual([
      ['OKESU_HOST_CREDENTIAL', secret],
      ['OKESU_HOST_KEY', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'],
      ['OKESU_HOST_KEY', 'BKcwggSjAgEAAoIBAQC7'],
      ['OKESU_JOIN_TOKEN', 'cd'.repeat(32)],
    ]);
    const r = createRedactor(s);
    expect(r.text(`Authorization: Bearer okh_0123456789abcdef_${secret}`)).toBe('Authorization: Bearer okh_0123456789abcdef_[REDACTED:OKESU_HOST_CREDENTIAL]');
  });

  it('never shows a value when the store is logged or serialised', () => {
    const s = store();
    expect(JSON.stringify({ s })).toBe('{"s":{}}');
    expect(inspect(s)).toBe('SecretStore { ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, OPENAI_API_KEY }');
  });
});
