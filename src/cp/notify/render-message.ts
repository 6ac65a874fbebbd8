import { SEVERITIES, severityRank } from '../../protocol/finding.js';
import type { Severity, StoredFinding } from '../../protocol/finding.js';
import { displayText } from '../../text/display-text.js';
import type { NotificationMessage } from './channel-sender.js';

/**
 * What a notification says, before any destination's markup: the shared model the Slack and email senders render,
 * and the plain-text rendering both use (Slack's notification fallback, the email's text body). Pure.
 *
 * Every field that came from a host (title, host name, resource, evidence, recommended action, agent) goes through
 * `displayText` — a control, bidi or line-separator character becomes a visible escape — and is capped, so a
 * destination's own escaping only has its markup characters left to deal with.
 */

/** Caps on the host-supplied fields, in characters (the Slack block limits are larger; these keep messages short). */
export const FIELD_CAPS = { title: 150, host: 200, agent: 100, resource: 500, action: 1000, evidenceChars: 1500, evidenceLines: 20 } as const;

/** One finding as a notification shows it: single-line fields safe and capped, the evidence an excerpt. */
export interface FindingView {
  id: number;
  severity: Severity;
  title: string;
  host: string;
  agent: string;
  category: string;
  /** Empty when the finding names no resource. */
  resource: string;
  runId: string;
  /** The first lines of the evidence (`\n`-separated, tabs kept), empty when there is none. */
  evidence: string;
  /** Whether `evidence` is shorter than what the finding carried. */
  evidenceCut: boolean;
  recommendedAction?: string;
  /** `${cpUrl}/v1/findings/${id}`, when the CP's URL is known and is http(s). */
  link?: string;
}

/** How many of a digest's groups have each severity, most severe first (severities with none left out). */
export interface SeverityCount {
  severity: Severity;
  groups: number;
}

/** A whole notification, ready for a destination to lay out. */
export interface MessageView {
  kind: NotificationMessage['kind'];
  channel: string;
  deliveryId: string;
  /** One line: `HIGH Title — host` for a finding, `Digest: 12 findings in 3 groups` for a digest. */
  headline: string;
  /** The most severe severity in the message. */
  highest: Severity;
  findings: FindingView[];
  /** For a digest, how many findings it stands for in all (at least `findings.length`). */
  total: number;
  bySeverity: SeverityCount[];
}

/** `text` cut to at most `max` characters (UTF-16 units, never splitting a surrogate pair), ending in `…` when cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--; // a high surrogate would lose its pair
  return `${text.slice(0, end)}…`;
}

/** One host-supplied line made safe (controls shown as escapes, breaks as spaces) and capped. */
export function safeLine(text: string, max: number): string {
  return truncate(displayText(text, 'line').trim(), max);
}

/** The evidence excerpt: at most `FIELD_CAPS.evidenceLines` lines and `FIELD_CAPS.evidenceChars` characters. */
function evidenceExcerpt(lines: readonly string[]): { text: string; cut: boolean } {
  const kept = lines.slice(0, FIELD_CAPS.evidenceLines).map((l) => displayText(l, 'block').replace(/\n/g, ' '));
  const joined = kept.join('\n');
  const text = truncate(joined, FIELD_CAPS.evidenceChars);
  return { text, cut: kept.length < lines.length || text !== joined };
}

/** The link back to a finding, when `cpUrl` is an http(s) URL; `|`, `<`, `>` and spaces come out percent-encoded. */
export function findingLink(cpUrl: string | undefined, id: number): string | undefined {
  if (!cpUrl) return undefined;
  let url: URL;
  try {
    url = new URL(`${cpUrl.replace(/\/+$/, '')}/v1/findings/${id}`);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return url.href.replace(/\|/g, '%7C');
}

/** The view of one stored finding. */
export function viewFinding(f: StoredFinding, cpUrl?: string): FindingView {
  const evidence = evidenceExcerpt(f.evidence);
  const view: FindingView = {
    id: f.id,
    severity: f.severity,
    title: safeLine(f.title, FIELD_CAPS.title),
    host: safeLine(f.host, FIELD_CAPS.host),
    agent: safeLine(f.agent, FIELD_CAPS.agent),
    category: safeLine(f.category, 32),
    resource: safeLine(f.resource, FIELD_CAPS.resource),
    runId: safeLine(f.run_id, 100),
    evidence: evidence.text,
    evidenceCut: evidence.cut,
  };
  const action = f.recommended_action?.trim();
  if (action) view.recommendedAction = truncate(displayText(action, 'block'), FIELD_CAPS.action);
  const link = findingLink(cpUrl, f.id);
  if (link) view.link = link;
  return view;
}

/** The view of a whole message: its findings, headline, highest severity and, for a digest, counts by severity. */
export function viewMessage(message: NotificationMessage): MessageView {
  const findings = message.findings.map((f) => viewFinding(f, message.cpUrl));
  const bySeverity = SEVERITIES.map((severity) => ({ severity, groups: findings.filter((f) => f.severity === severity).length })).filter(
    (c) => c.groups > 0,
  );
  const highest = findings.reduce<Severity>((top, f) => (severityRank(f.severity) > severityRank(top) ? f.severity : top), 'INFO');
  const total = Math.max(message.total, findings.length);
  const first = findings[0];
  const headline =
    message.kind === 'finding' && first
      ? `${first.severity} ${first.title} — ${first.host}`
      : `Digest: ${total} finding${total === 1 ? '' : 's'} in ${findings.length} group${findings.length === 1 ? '' : 's'}`;
  return { kind: message.kind, channel: safeLine(message.channel, 100), deliveryId: safeLine(message.deliveryId, 100), headline, highest, findings, total, bySeverity };
}

/** `CRITICAL 1 · HIGH 2`: a digest's groups counted by severity. */
export function severitySummary(counts: readonly SeverityCount[]): string {
  return counts.map((c) => `${c.severity} ${c.groups}`).join(' · ');
}

/** One finding as plain-text lines (the email's text body, the Slack fallback's source). */
export function plainFinding(f: FindingView): string[] {
  const lines = [`${f.severity}  ${f.title}`, `host: ${f.host}   agent: ${f.agent}   category: ${f.category}`];
  if (f.resource) lines.push(`resource: ${f.resource}`);
  if (f.evidence) lines.push('evidence:', ...f.evidence.split('\n').map((l) => `  ${l}`), ...(f.evidenceCut ? ['  …'] : []));
  if (f.recommendedAction) lines.push('recommended action:', ...f.recommendedAction.split('\n').map((l) => `  ${l}`));
  lines.push(`finding ${f.id} · run ${f.runId}${f.link ? ` · ${f.link}` : ''}`);
  return lines;
}

/** The whole message as plain text. */
export function renderPlainText(view: MessageView): string {
  const lines: string[] = [];
  if (view.kind === 'finding') {
    const f = view.findings[0];
    if (f) lines.push(...plainFinding(f));
  } else {
    lines.push(view.headline, severitySummary(view.bySeverity), '');
    for (const f of view.findings) lines.push(`- ${f.severity}  ${f.title} — ${f.host} (${f.agent}) · finding ${f.id}${f.link ? ` ${f.link}` : ''}`);
    if (view.total > view.findings.length) lines.push('', `${view.total} findings in all; the list shows the first of each group.`);
  }
  lines.push('', `Okesu · channel ${view.channel} · delivery ${view.deliveryId}`);
  return lines.join('\n');
}
