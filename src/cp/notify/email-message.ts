import type { NotificationMessage } from './channel-sender.js';
import { renderPlainText, severitySummary, truncate, viewMessage } from './render-message.js';
import type { FindingView, MessageView } from './render-message.js';

/**
 * The email for a notification: a header-safe subject, a plain-text body and a simple HTML body. Pure.
 *
 * Host text reaches the subject only through the shared view (no control character, so no CR/LF to inject a
 * header; nodemailer encodes non-ASCII as RFC 2047 words) and is capped; in the HTML body every piece of text is
 * HTML-escaped, and the only link is the CP's own finding URL.
 */

/** The longest subject, in characters (RFC 5322 recommends 78 per line; mail clients show about this much). */
export const SUBJECT_CAP = 160;

/** What nodemailer sends. */
export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

/** `text` with `&`, `<`, `>`, `"` and `'` as HTML entities. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `[okesu] HIGH Title — host`, or `[okesu] CRITICAL Digest: 12 findings in 3 groups`. */
export function emailSubject(view: MessageView): string {
  const subject = view.kind === 'finding' ? `[okesu] ${view.headline}` : `[okesu] ${view.highest} ${view.headline}`;
  // The view has no control characters; this is the belt to that brace, since a CR or LF here would end the header.
  return truncate(subject.replace(/[\r\n\u2028\u2029]+/g, ' '), SUBJECT_CAP);
}

const TD = 'style="padding:2px 12px 2px 0;vertical-align:top;color:#555"';
const PRE = 'style="background:#f4f4f4;padding:8px;white-space:pre-wrap;font-family:monospace"';

function row(label: string, value: string): string {
  return `<tr><td ${TD}>${escapeHtml(label)}</td><td>${escapeHtml(value)}</td></tr>`;
}

function link(f: FindingView, label: string): string {
  return f.link ? `<a href="${escapeHtml(f.link)}">${escapeHtml(label)}</a>` : escapeHtml(label);
}

function findingHtml(f: FindingView): string {
  const parts = [
    `<h2 style="margin:0 0 8px">${escapeHtml(`${f.severity}: ${f.title}`)}</h2>`,
    '<table style="border-collapse:collapse">',
    row('Severity', f.severity),
    row('Host', f.host),
    row('Agent', f.agent),
    row('Category', f.category),
    f.resource ? row('Resource', f.resource) : '',
    '</table>',
  ];
  if (f.evidence) parts.push(`<h3>Evidence${f.evidenceCut ? ' (excerpt)' : ''}</h3>`, `<pre ${PRE}>${escapeHtml(f.evidence)}</pre>`);
  if (f.recommendedAction) parts.push('<h3>Recommended action</h3>', `<p style="white-space:pre-wrap">${escapeHtml(f.recommendedAction)}</p>`);
  parts.push(`<p>${link(f, `Finding ${f.id}`)} · run ${escapeHtml(f.runId)}</p>`);
  return parts.join('\n');
}

function digestHtml(view: MessageView): string {
  const items = view.findings.map(
    (f) => `<li><b>${escapeHtml(f.severity)}</b> ${escapeHtml(f.title)} — ${escapeHtml(f.host)} (${escapeHtml(f.agent)}) · ${link(f, `#${f.id}`)}</li>`,
  );
  const more = view.total > view.findings.length ? `<p>${view.total} findings in all; the list shows the first of each group.</p>` : '';
  return [`<h2 style="margin:0 0 8px">${escapeHtml(view.headline)}</h2>`, `<p>${escapeHtml(severitySummary(view.bySeverity))}</p>`, `<ul>${items.join('\n')}</ul>`, more].join('\n');
}

/** The subject and both bodies of a notification email. */
export function emailContent(message: NotificationMessage): EmailContent {
  const view = viewMessage(message);
  const first = view.findings[0];
  const main = view.kind === 'finding' && first ? findingHtml(first) : digestHtml(view);
  const footer = `<p style="color:#777;font-size:smaller">Okesu · channel ${escapeHtml(view.channel)} · delivery ${escapeHtml(view.deliveryId)}</p>`;
  const html = `<!doctype html>\n<html><body style="font-family:sans-serif">\n${main}\n${footer}\n</body></html>\n`;
  return { subject: emailSubject(view), text: `${renderPlainText(view)}\n`, html };
}
