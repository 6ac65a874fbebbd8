import { createHash } from 'node:crypto';
import type { ReleaseStore, StoredRelease } from '../../../src/cp/releases/release-store.js';
import { RELEASE_PLATFORM } from '../../../src/protocol/release.js';
import type { RolloutView } from '../../../src/protocol/rollout.js';
import { generateReleaseKey, signRelease } from '../../../src/release/release-signing.js';
import type { CpHarness, Frame, TestSocket } from '../cp-harness.js';

/**
 * Releases signed for real with a fresh release key, served by version: enough of the release store for the rollout
 * engine, which only reads the signed manifest it sends hosts (the artifact is never downloaded in these tests).
 */
export function signedReleases(versions: readonly string[]): Pick<ReleaseStore, 'get'> & { publicKey: string } {
  const key = generateReleaseKey();
  const stored = new Map<string, StoredRelease>();
  for (const version of versions) {
    const bytes = Buffer.from(`okesu ${version}`);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const signed = signRelease(key.privateKeyPem, { version, platform: RELEASE_PLATFORM, sha256, size: bytes.length });
    stored.set(version, {
      signed,
      artifactPath: '/nonexistent',
      view: { version, platform: RELEASE_PLATFORM, sha256, size: bytes.length, key_id: key.keyId, created_at: 0, uploaded_at: 0, uploaded_by: 'test' },
    });
  }
  return { get: (version) => stored.get(version), publicKey: key.publicKey };
}

/** POST /v1/rollouts as the admin (or `token`); the raw answer. */
export function postRollout(h: CpHarness, body: Record<string, unknown>, token?: string): ReturnType<CpHarness['request']> {
  return h.request('POST', '/v1/rollouts', { json: body, ...(token !== undefined && { token }) });
}

/** GET /v1/rollouts/:id, parsed. */
export async function getRollout(h: CpHarness, id: string): Promise<RolloutView> {
  const answer = await h.request('GET', `/v1/rollouts/${id}`);
  if (answer.status !== 200) throw new Error(`GET rollout ${id}: ${answer.status} ${answer.text}`);
  return answer.body as RolloutView;
}

/** The state of each host of a rollout, by name. */
export async function hostStates(h: CpHarness, id: string): Promise<Record<string, string>> {
  const view = await getRollout(h, id);
  return Object.fromEntries((view.hosts ?? []).map((x) => [x.hostname, x.state]));
}

/** Plays a daimon's upgrade: the steps up to `restarting`, each an `upgrade_status` frame. */
export function reportSteps(tunnel: TestSocket, order: Frame, version: string, states = ['downloading', 'verifying', 'staged', 'restarting']): void {
  for (const state of states) tunnel.send({ type: 'upgrade_status', rollout_id: order['rollout_id'], version, state });
}
