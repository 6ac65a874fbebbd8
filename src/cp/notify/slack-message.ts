import type { Severity } from '../../protocol/finding.js';
import type { NotificationMessage } from './channel-sender.js';
import { severitySummary, viewMessage } from './render-message.js';
import type { FindingView, MessageView } from './render-message.js';

/**
 * The Block Kit message a Slack incoming webhook receives for a notification. Pure.
 *
 * Host text is attacker-controlled. Slack parses `<…>` in text as mentions (`<!channel>`, `<@U…>`) and links
 * (`<https://evil|click>`), so `&`, `<` and `>` are written as `&amp;`, `&lt;`, `&gt;` everywhere (Slack's
 * escaping rule, which applies to plain_text as well); the bare words `@channel`, `@here` and `@everyone` get a word
 * joiner after the `@`. Control characters were made visible escapes by the shared view. Every text is cut to fit
 * Slack's limits after escaping (header 150, section text 3000, field 2000, at most 50 blocks), so Slack never
 * answers `invalid_blocks` for a long host string.
 */

/** Block Kit limits (characters). */
export const SLACK_LIMITS = { header: 150, sectionText: 3000, field: 2000, context: 2000, blocks: 50, fallback: 3000 } as const;

/** A Block Kit text object. */
export interface SlackText {
  type: 'plain_text' | 'mrkdwn';
  text: string;
  emoji?: boolean;
}

/** The blocks this sender uses. */
export type SlackBlock =
  | { type: 'header'; text: SlackText }
  | { type: 'section'; text?: SlackText; fields?: SlackText[] }
  | { type: 'context'; elements: SlackText[] };

/** The JSON body posted to the webhook: `text` is the notification (and screen reader) fallback. */
export interface SlackPayload {
  text: string;
  blocks: SlackBlock[];
}

const EMOJI: Record<Severity, string> = {
  CRITICAL: ':rotating_light:',
  HIGH: ':red_circle:',
  MEDIUM: ':large_orange_circle:',
  LOW: ':large_yellow_circle:',
  INFO: ':white_circle:',
};
const MAX_DIGEST_SECTIONS = 10;

/** `text` with Slack's three control characters escaped and broadcast words defused. */
export function escapeSlack(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@(channel|here|everyone)\b/gi, '@\u2060$1');
}

/** `text` escaped, then fitted to `max` characters: the longest raw prefix whose escaped form, with `…`, fits. */
export function fitSlack(text: string, max: number): string {
  const full = escapeSlack(text);
  if (full.length <= max) return full;
  let kept = '';
  let size = 1; // the ellipsis
  for (const ch of text) {
    const grows = ch === '&' ? 5 : ch === '<' || ch === '>' ? 4 : ch.length;
    if (size + grows > max) break;
    kept += ch;
    size += grows;
  }
  // A defused `@channel` is one character longer: give back characters until it fits.
  let fitted = escapeSlack(`${kept}…`);
  while (fitted.length > max && kept.length > 0) {
    kept = kept.slice(0, -1);
    fitted = escapeSlack(`${kept}…`);
  }
  return fitted.length > max ? '' : fitted;
}

/** Evidence inside a ``` block: a run of three backticks would end the block early, so a zero-width space splits it. */
function codeBlock(evidence: string, max: number): string {
  const body = fitSlack(evidence.replace(/```/g, '``\u200b`'), max - 8);
  return `\`\`\`${body}\`\`\``;
}

const mrkdwn = (text: string): SlackText => ({ type: 'mrkdwn', text });
const labelled = (label: string, value: string, max: number): SlackText => mrkdwn(`*${label}*\n${fitSlack(value, max - label.length - 3)}`);
const linkTo = (f: FindingView, label: string): string => (f.link ? `<${escapeSlack(f.link)}|${escapeSlack(label)}>` : escapeSlack(label));

function header(text: string): SlackBlock {
  return { type: 'header', text: { type: 'plain_text', text: fitSlack(text, SLACK_LIMITS.header), emoji: true } };
}

function context(view: MessageView, lead: string): SlackBlock {
  const text = `${lead} · channel ${fitSlack(view.channel, 100)} · delivery ${fitSlack(view.deliveryId, 100)}`;
  return { type: 'context', elements: [mrkdwn(text)] };
}

function findingBlocks(view: MessageView, f: FindingView): SlackBlock[] {
  const blocks: SlackBlock[] = [
    header(`${EMOJI[f.severity]} ${f.severity}: ${f.title}`),
    {
      type: 'section',
      fields: [
        labelled('Severity', f.severity, SLACK_LIMITS.field),
        labelled('Host', f.host, SLACK_LIMITS.field),
        labelled('Agent', f.agent, SLACK_LIMITS.field),
        labelled('Category', f.category, SLACK_LIMITS.field),
      ],
    },
  ];
  if (f.resource) blocks.push({ type: 'section', text: labelled('Resource', f.resource, SLACK_LIMITS.sectionText) });
  if (f.evidence) {
    const note = f.evidenceCut ? ' _(excerpt)_' : '';
    blocks.push({ type: 'section', text: mrkdwn(`*Evidence*${note}\n${codeBlock(f.evidence, SLACK_LIMITS.sectionText - 30)}`) });
  }
  if (f.recommendedAction) blocks.push({ type: 'section', text: labelled('Recommended action', f.recommendedAction, SLACK_LIMITS.sectionText) });
  blocks.push(context(view, `${linkTo(f, `Finding ${f.id}`)} · run ${fitSlack(f.runId, 100)}`));
  return blocks;
}

/**
 * The digest's list, packed into sections of at most 3000 characters. A line is at most ~400 characters, so 10
 * sections hold the contract's 50 groups at any length; past that (defensive), the rest is counted.
 */
function digestSections(view: MessageView): SlackBlock[] {
  const sections: string[][] = [[]];
  let size = 0;
  let listed = 0;
  for (const f of view.findings) {
    const line = `• *${f.severity}* ${fitSlack(f.title, 150)} — ${fitSlack(f.host, 100)} (${fitSlack(f.agent, 60)}) · ${linkTo(f, `#${f.id}`)}`;
    let current = sections[sections.length - 1] as string[];
    if (size + line.length + 1 > SLACK_LIMITS.sectionText - 60) {
      if (sections.length === MAX_DIGEST_SECTIONS) break;
      current = [];
      sections.push(current);
      size = 0;
    }
    current.push(line);
    size += line.length + 1;
    listed++;
  }
  if (listed < view.findings.length) (sections[sections.length - 1] as string[]).push(`…and ${view.findings.length - listed} more groups`);
  return sections.filter((s) => s.length > 0).map((s) => ({ type: 'section', text: mrkdwn(s.join('\n')) }));
}

function digestBlocks(view: MessageView): SlackBlock[] {
  return [
    header(`${EMOJI[view.highest]} Okesu ${view.headline}`),
    { type: 'section', text: mrkdwn(`*Groups by severity:* ${escapeSlack(severitySummary(view.bySeverity))}`) },
    ...digestSections(view),
    context(view, `${view.total} finding${view.total === 1 ? '' : 's'} in all; one line per group (its first finding)`),
  ];
}

/** The webhook body for a notification. */
export function slackPayload(message: NotificationMessage): SlackPayload {
  const view = viewMessage(message);
  const first = view.findings[0];
  const blocks = view.kind === 'finding' && first ? findingBlocks(view, first) : digestBlocks(view);
  return { text: fitSlack(`[okesu] ${view.headline}`, SLACK_LIMITS.fallback), blocks: blocks.slice(0, SLACK_LIMITS.blocks) };
}
