import type { ControlPlaneOptions } from '../../../src/cp/cp-server.js';
import type { SignedRelease } from '../../../src/protocol/release.js';
import type { RolloutView } from '../../../src/protocol/rollout.js';
import { generateReleaseKey } from '../../../src/release/release-signing.js';
import { startCp, type CpHarness, type Frame, type TestSocket } from '../cp-harness.js';
import { signedArtifact, uploadRelease } from '../release-helpers.js';

/** Releases signed for real with a fresh release key: the CP is started trusting it and they are uploaded to it. */
export interface TestReleases {
  releaseKeys: string[];
  versions: readonly string[];
  get(version: string): { signed: SignedRelease; bytes: Buffer } | undefined;
}

/** Signs a small artifact for each version with a fresh release key. */
export function signedReleases(versions: readonly string[]): TestReleases {
  const key = generateReleaseKey();
  const stored = new Map(versions.map((version) => [version, signedArtifact(key, version, 1024)]));
  return { releaseKeys: [key.publicKey], versions, get: (version) => stored.get(version) };
}

/** A CP that trusts the releases' key, with every release uploaded through `POST /v1/releases`. */
export async function startCpWithReleases(releases: TestReleases, options: Partial<ControlPlaneOptions> = {}): Promise<CpHarness> {
  const h = await startCp({ options: { releaseKeys: releases.releaseKeys, ...options } });
  for (const version of releases.versions) {
    const release = releases.get(version) as { signed: SignedRelease; bytes: Buffer };
    const answer = await uploadRelease(h, release.bytes, { signed: release.signed });
    if (answer.status !== 201) throw new Error(`upload of ${version}: ${answer.status} ${answer.body.toString()}`);
  }
  return h;
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
