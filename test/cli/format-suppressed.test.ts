import { describe, expect, it } from 'vitest';
import { formatRunEvent } from '../../src/cli/format-event.js';
import { lineText } from '../../src/cli/output.js';

describe('formatRunEvent: findings_suppressed', () => {
  it('says how many the host policy dropped, by which entry and why', () => {
    const line = formatRunEvent({
      type: 'findings_suppressed', count: 3,
      by: [
        { entry: 0, at: '/etc/okesu/policy.yaml:4', agent: 'edr', rule: 'memfd-executable', reason: 'runc starts containers from memfd', expires: '2027-03-01', count: 2 },
        { entry: 2, at: '/etc/okesu/policy.yaml:15', agent: 'edr', reason: 'lab\nhost', expires: '2027-01-01', count: 1 },
      ],
    });
    expect(lineText(line)).toBe('suppressed 3 findings: 2 by suppress[0] (/etc/okesu/policy.yaml:4): runc starts containers from memfd; 1 by suppress[2] (/etc/okesu/policy.yaml:15): lab host');
  });
});
