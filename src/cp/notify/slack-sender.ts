import { displayText } from '../../text/display-text.js';
import { DeliveryError } from './channel-sender.js';
import type { ChannelSender, NotificationMessage, SlackTarget } from './channel-sender.js';
import { isLoopbackHost } from './loopback-host.js';
import { slackPayload } from './slack-message.js';

/**
 * Posts a notification to a Slack incoming webhook, once (the outbox retries). The webhook URL is the channel's
 * secret: no error message or receipt contains it, only its host.
 *
 * Outcomes: 2xx is delivered (Slack answers `ok`); 408, 429 (with its Retry-After in the message), 5xx, a network
 * failure or the timeout are retryable; any other status (Slack's 400 `invalid_payload`, 403 `action_prohibited`,
 * 404 `no_service`, 410 `channel_is_archived`…) and a redirect are not, since another attempt would get the same.
 */

/** How much of Slack's answer goes into a receipt or an error. */
const BODY_CAP = 300;

/**
 * Why `url` cannot be a Slack webhook, or undefined when it can: it must be an absolute https URL without user
 * info. Plain http is accepted for a loopback host only (tests, a local relay), so the secret URL and the
 * message never cross a network in clear. For `okesu notify add slack` to check before storing.
 */
export function slackWebhookUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'the Slack webhook URL is not a valid absolute URL';
  }
  if (parsed.username || parsed.password) return 'the Slack webhook URL must not carry user info';
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname)) return undefined;
  return `the Slack webhook URL must be https (http only for a loopback host), not ${parsed.protocol}//${parsed.host}`;
}

/** Up to `BODY_CAP` characters of the response body, shown safely; stops reading past the cap. */
async function readCapped(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < BODY_CAP * 4) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
  const text = displayText(Buffer.concat(chunks).toString('utf8').trim());
  return text.length > BODY_CAP ? `${text.slice(0, BODY_CAP)}…` : text;
}

/** `retry after 30 s` from a Retry-After header (seconds or an HTTP date), empty when there is none. */
export function retryAfterText(value: string | null, now = Date.now()): string {
  if (!value) return '';
  const v = value.trim();
  if (/^\d{1,9}$/.test(v)) return `, retry after ${Number(v)} s`;
  const at = Date.parse(v);
  if (Number.isFinite(at)) return `, retry after ${Math.max(0, Math.ceil((at - now) / 1000))} s`;
  return '';
}

function networkError(err: unknown, where: string, timeoutMs: number): DeliveryError {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return new DeliveryError(`${where}: no answer within ${timeoutMs} ms`, true);
  const cause = e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
  return new DeliveryError(`${where}: ${displayText(cause)}`, true);
}

/** The Slack sender: one POST of the message's Block Kit JSON, within `timeoutMs` (connect, answer and body). */
export function createSlackSender(): ChannelSender<SlackTarget> {
  return {
    kind: 'slack',
    async send(target: SlackTarget, message: NotificationMessage, opts: { timeoutMs: number }): Promise<string> {
      const problem = slackWebhookUrlProblem(target.webhookUrl);
      if (problem) throw new DeliveryError(problem, false);
      const where = `Slack webhook at ${new URL(target.webhookUrl).host}`;
      let res: Response;
      let body: string;
      try {
        res = await fetch(target.webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body: JSON.stringify(slackPayload(message)),
          redirect: 'manual',
          signal: AbortSignal.timeout(opts.timeoutMs),
        });
        body = await readCapped(res);
      } catch (err) {
        throw networkError(err, where, opts.timeoutMs);
      }
      const answer = `HTTP ${res.status}${body ? ` ${body}` : ''}`;
      if (res.status >= 200 && res.status < 300) return answer;
      if (res.status === 429) throw new DeliveryError(`${where}: ${answer}${retryAfterText(res.headers.get('retry-after'))}`, true);
      if (res.status === 408 || res.status >= 500) throw new DeliveryError(`${where}: ${answer}`, true);
      if (res.status >= 300 && res.status < 400) throw new DeliveryError(`${where}: ${answer}: a webhook does not redirect; check the URL`, false);
      throw new DeliveryError(`${where}: ${answer}`, false);
    },
  };
}
