import { readFileSync } from 'node:fs';
import type { ClientConfig } from '../protocol/client-config.js';
import { createDeployCpClient, type DeployCpClient } from './deploy-cp-client.js';
import type { SshHostKeyView } from '../protocol/deploy-api.js';
import { deployFleet, summarize, type DeployProgress, type DeploySummary } from './deploy-fleet.js';
import type { DeployHostResult, DeployOptions } from './deploy-host.js';
import type { HostKeyPolicy } from './host-key-check.js';
import { findKnownKeys } from './known-hosts.js';
import { resolveSshAuth } from './ssh-auth.js';
import type { SshTarget } from './target.js';

/** Everything `okesu deploy` decided from its flags. */
export interface RunDeployInput {
  targets: readonly SshTarget[];
  identity?: string;
  knownHosts?: string;
  init: 'systemd' | 'none';
  prefix: string;
  parallel: number;
  wait: boolean;
  waitTimeoutMs: number;
  executable: string;
  hostname?: string;
  extraArgs: readonly string[];
  env: NodeJS.ProcessEnv;
  config: ClientConfig;
}

/** Runs a deploy (`okesu deploy`'s service; loaded on use, with ssh2): the per-target results and their sums. */
export async function runDeploy(input: RunDeployInput, onProgress: (p: DeployProgress) => void): Promise<{ results: DeployHostResult[]; summary: DeploySummary }> {
  const auth = resolveSshAuth(input.identity, input.env);
  const cp = createDeployCpClient(input.config);
  try {
    const hostKeyPolicy = await policies(input, cp);
    const options: DeployOptions = {
      auth, hostKeyPolicy, init: input.init, prefix: input.prefix, executable: input.executable, extraArgs: input.extraArgs,
      wait: input.wait, waitTimeoutMs: input.waitTimeoutMs, ...(input.hostname !== undefined && { hostname: input.hostname }),
    };
    const results = await deployFleet(input.targets, options, cp, input.parallel, onProgress);
    return { results, summary: summarize(results) };
  } finally {
    cp.close();
  }
}

async function policies(input: RunDeployInput, cp: DeployCpClient): Promise<(t: SshTarget) => HostKeyPolicy> {
  if (input.knownHosts !== undefined) {
    const file = input.knownHosts;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`--known-hosts ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    return (t) => ({ kind: 'known_hosts', file, ...findKnownKeys(text, t.host, t.port) });
  }
  // The pins as they are now; each deploy's preparation answers its target's pin again, checked before anything is uploaded.
  const pins = new Map((await cp.hostKeys()).map((k) => [k.target, k.fingerprint]));
  return (t) => ({ kind: 'pin', pinned: pins.get(t.text) ?? null });
}

/** Forgets the pinned host key of a target (`okesu deploy forget-key`). */
export async function forgetHostKey(config: ClientConfig, target: SshTarget): Promise<{ target: string; fingerprint: string }> {
  const cp = createDeployCpClient(config);
  try {
    return await cp.forgetKey(target.text);
  } finally {
    cp.close();
  }
}

/** The pinned host keys (`okesu deploy keys`). */
export async function listHostKeys(config: ClientConfig): Promise<SshHostKeyView[]> {
  const cp = createDeployCpClient(config);
  try {
    return await cp.hostKeys();
  } finally {
    cp.close();
  }
}
