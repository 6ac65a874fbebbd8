import { createHash } from 'node:crypto';
import https from 'node:https';
import { RELEASE_HEADER, RELEASE_PLATFORM, type SignedRelease } from '../../../src/protocol/release.js';
import type { RolloutView } from '../../../src/protocol/rollout.js';
import { generateReleaseKey, signRelease } from '../../../src/release/release-signing.js';
import type { CpHarness, Frame, TestSocket } from '../cp-harness.js';

/** Release artifacts signed for real with a fresh release key; the CP must trust `publicKey` (`releaseKeys`). */
export function releaseKit(versions: readonly string[]): { publicKey: string; signed: Map<string, SignedRelease>; upload(h: CpHarness): Promise<void> } {
  const key = generateReleaseKey();
  const artifacts = new Map(versions.map((v) => [v, Buffer.from(`#!/bin/sh\necho okesu ${v}\n`)]));
  const signed = new Map(
    [...artifacts].map(([version, bytes]) => [
      version,
      signRelease(key.privateKeyPem, { version, platform: RELEASE_PLATFORM, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length }),
    ]),
  );
  return {
    publicKey: key.publicKey,
    signed,
    /** Uploads every release with `POST /v1/releases`, as `okesu release add` does. */
    async upload(h) {
      for (const [version, bytes] of artifacts) {
        const status = await postRelease(h, bytes, signed.get(version) as SignedRelease);
        if (status !== 201) throw new Error(`upload of release ${version}: HTTP ${status}`);
      }
    },
  };
}

/** `POST /v1/releases` with the artifact as the body and the signed release in its header; the status. */
function postRelease(h: CpHarness, bytes: Buffer, signed: SignedRelease): Promise<number> {
  const headers = {
    authorization: `Bearer ${h.adminConfig.token}`,
    'content-type': 'application/octet-stream',
    'content-length': bytes.length,
    [RELEASE_HEADER]: Buffer.from(JSON.stringify(signed)).toString('base64'),
  };
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: h.port, path: '/v1/releases', method: 'POST', headers, ca: h.caPem, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(bytes);
  });
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
