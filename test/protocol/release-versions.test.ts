import { describe, expect, it } from 'vitest';
import { compareVersions, versionSchema } from '../../src/protocol/release.js';

describe('compareVersions', () => {
  it('orders the semver 2.0 specification example', () => {
    const ordered = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.2.0', '1.10.0', '2.0.0'];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        expect(Math.sign(compareVersions(ordered[i] as string, ordered[j] as string)), `${ordered[i]} vs ${ordered[j]}`).toBe(Math.sign(i - j));
      }
    }
  });

  it('compares long numeric pre-release identifiers exactly', () => {
    expect(compareVersions('1.0.0-99999999999999999999', '1.0.0-99999999999999999998')).toBeGreaterThan(0);
  });

  it.each(['1.0', '1.0.0.0', 'v1.0.0', '01.0.0', '1.0.0-', '1.0.0+build', '1.0.0-01', '1.0.0-rc.01', ''])('refuses %j as a version', (text) => {
    expect(versionSchema.safeParse(text).success).toBe(false);
    expect(() => compareVersions(text, '1.0.0')).toThrow(/not a version/);
  });
});
