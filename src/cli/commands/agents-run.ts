import { resolve } from 'node:path';
import { OkesuError } from '../../errors.js';
import type { RunEndStatus } from '../../protocol/event.js';
import type { AgentSpec } from '../../specs/agent-spec.js';
import { formatSpecError } from '../../specs/spec-error.js';
import { DEFAULT_POLICY_PATH } from '../../specs/policy-spec.js';
import type { CliContext } from '../context.js';
import { createLogger } from '../logger.js';
import { formatRunEvent } from '../format-event.js';
import type { LocalRunFlags } from './agents.js';

/** Runs `agent` here through the daimon's pipeline and prints its events (JSONL with --json); resolves with the run's status. */
export async function runLocal(ctx: CliContext, agent: AgentSpec, opts: LocalRunFlags): Promise<RunEndStatus> {
  const [{ runAgentLocally }, { loadHostPolicy }, { takeProviderSecrets }, { createRedactor }] = await Promise.all([
    import('../../../daimon/local-run.js'),
    import('../../../daimon/policy/load-policy.js'),
    import('../../../daimon/secrets/take-secrets.js'),
    import('../../../daimon/secrets/redact.js'),
  ]);
  // Taken out of the environment before anything runs: collectors and tools of the agent never see them.
  const taken = takeProviderSecrets({ env: ctx.deps.env, ...(opts.secretsFile !== undefined && { file: resolve(opts.secretsFile) }) });
  const loaded = await loadHostPolicy(opts.policy ?? DEFAULT_POLICY_PATH, { required: opts.policy !== undefined });
  if (!loaded.ok) throw new OkesuError('OKS_ERR_CONFIG', `host policy: ${loaded.errors.map(formatSpecError).join('; ')}`);
  // Logs go to stderr so stdout carries only the events.
  const log = createLogger({ name: 'okesu-agents', level: ctx.deps.env.OKESU_LOG_LEVEL ?? 'warn', fd: 2, scrub: createRedactor(taken.store).text });
  if (taken.overridden.length > 0) log.warn({ names: taken.overridden }, 'set in the environment and the secrets file: the file wins');
  const abort = new AbortController();
  const onSignal = (): void => abort.abort('interrupted');
  process.once('SIGINT', onSignal);
  ctx.deps.signal?.addEventListener('abort', onSignal, { once: true });
  try {
    return await runAgentLocally({
      agent, prompt: opts.prompt, inputs: opts.input, policy: loaded.policy, stateDir: resolve(opts.stateDir),
      secrets: taken.store,
      ...(opts.timeout !== undefined && { timeoutMs: opts.timeout }),
      signal: abort.signal, log, env: ctx.deps.env, now: ctx.now,
      onEvent: (event) => (opts.json ? ctx.out.printJsonLine(event) : ctx.out.printLine(formatRunEvent(event))),
    });
  } finally {
    process.off('SIGINT', onSignal);
    ctx.deps.signal?.removeEventListener('abort', onSignal);
    log.flush();
  }
}
