import { describe, expect, it } from 'vitest';
import { SUBJECT_CAP, emailContent, escapeHtml } from '../../../src/cp/notify/email-message.js';
import { finding, findingMessage } from './notify-fixtures.js';

describe('emailContent', () => {
  it('the subject is one header line, whatever the host sent, and capped', () => {
    const c = emailContent(findingMessage(finding({ title: 'a\r\nBcc: victim@example.com\u2028x', host: 'h\nX-Evil: 1'.repeat(100) })));
    // eslint-disable-next-line no-control-regex -- no control character may reach a header
    expect(c.subject).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    expect(c.subject.startsWith('[okesu] HIGH a Bcc: victim@example.com\\u2028x — h X-Evil: 1')).toBe(true);
    expect(c.subject.length).toBeLessThanOrEqual(SUBJECT_CAP);
  });

  it('HTML escapes everything from the host, with no script or attribute way out', () => {
    const evil = `<script>alert(1)</script><img src=x onerror="y"> 'q' & co`;
    const c = emailContent(findingMessage(finding({ title: evil, host: evil, agent: evil, resource: evil, evidence: [evil], recommended_action: evil })));
    expect(c.html).not.toMatch(/<script|<img|onerror="/);
    expect(c.html).toContain(escapeHtml(evil));
    expect(escapeHtml(evil)).toBe('&#60;script&#62;alert(1)&#60;/script&#62;&#60;img src=x onerror=&#34;y&#34;&#62; &#39;q&#39; &#38; co');
  });

  it('no link without an http(s) CP URL', () => {
    const c = emailContent(findingMessage(finding(), { cpUrl: 'javascript:alert(1)' }));
    expect(c.html).not.toContain('<a ');
    expect(c.html).not.toContain('javascript:');
  });
});
