import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findKnownKeys } from '../../src/deploy/known-hosts.js';
import { parseProbe } from '../../src/deploy/probe.js';
import { parseTarget } from '../../src/deploy/target.js';
import { formatInstallOutcome, INSTALL_OUTCOMES, readInstallResult } from '../../src/protocol/install-outcome.js';
import { budget, withinBound } from './budget.js';

// What `okesu deploy` reads from a target host (its probe output, its install output) is hostile text; what it reads
// from the operator (targets, a known_hosts file) is typed by hand. None of it may crash the deploy or hang it.

const noisyText = fc.oneof(
  fc.string({ maxLength: 400 }),
  fc.array(fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('{', '}', '{"outcome":"installed"}', 'okesu install: installed host=', '@revoked', '|1|', '[', ']:22')), { maxLength: 40 }).map((p) => p.join('\n')),
);

const safeWord = fc.stringMatching(/^[A-Za-z0-9._/-]{1,30}$/);
const result = fc.record({ outcome: fc.constantFrom(...INSTALL_OUTCOMES), hostname: safeWord, version: safeWord, state_dir: safeWord.map((w) => `/${w}`) });

describe('deploy parsers over arbitrary text', () => {
  it('reads a megabyte of hostile output (lines of "{") in linear time', () => {
    const hostile = '{\n'.repeat(512 * 1024);
    expect(withinBound('readInstallResult of 1 MiB of "{" lines', () => readInstallResult(hostile))).toBeUndefined();
  });

  it('readInstallResult never throws, and finds the result after any log lines, as a line or as JSON', () => {
    fc.assert(fc.property(noisyText, (text) => void withinBound('readInstallResult', () => readInstallResult(text))), budget());
    fc.assert(
      fc.property(noisyText, result, fc.boolean(), (noise, r, json) => {
        const last = json ? JSON.stringify(r, null, 2) : formatInstallOutcome(r);
        expect(readInstallResult(`${noise}\n${last}\n`)).toEqual(r);
      }),
      budget(),
    );
  });

  it('parseProbe, parseTarget and findKnownKeys answer or throw an Error saying why, quickly', () => {
    fc.assert(
      fc.property(noisyText, (text) => {
        const parsers: [string, () => unknown][] = [['parseProbe', () => parseProbe(text)], ['parseTarget', () => parseTarget(text, 'root')]];
        for (const [what, fn] of parsers) {
          try {
            withinBound(what, fn);
          } catch (err) {
            expect(err).toBeInstanceOf(Error);
            expect((err as Error).message.length).toBeGreaterThan(0);
            expect((err as Error).message).not.toMatch(/took \d+ ms/);
          }
        }
        const keys = withinBound('findKnownKeys', () => findKnownKeys(text, 'web-01', 2222));
        expect(Array.isArray(keys.fingerprints) && Array.isArray(keys.revoked)).toBe(true);
      }),
      budget(),
    );
  });

  const targetText = fc.oneof(
    noisyText,
    fc
      .tuple(
        fc.option(fc.stringMatching(/^[a-z_][a-z0-9._-]{0,15}$/), { nil: undefined }),
        fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6().map((a) => `[${a}]`), fc.ipV6()),
        fc.option(fc.integer({ min: 0, max: 70_000 }), { nil: undefined }),
      )
      .map(([user, host, port]) => `${user !== undefined ? `${user}@` : ''}${host}${port !== undefined && !/^[^[].*:/.test(host) ? `:${port}` : ''}`),
  );

  it('a parsed target prints back to a text that parses to the same target', () => {
    fc.assert(
      fc.property(targetText, (text) => {
        let t;
        try {
          t = parseTarget(text, 'root');
        } catch {
          return;
        }
        const again = parseTarget(t.text, 'nobody');
        expect(again).toEqual(t);
      }),
      budget(),
    );
  });
});
