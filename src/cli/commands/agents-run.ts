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
  const [{ runAgentLocally }, { loadHostPolicy }] = await Promise.all([
    import('../../../daimon/local-run.js'),
    import('../../../daimon/policy/load-policy.js'),
  ]);
  const loaded = await loadHostPolicy(opts.policy ?? DEFAULT_POLICY_PATH, { required: opts.policy !== undefined });
  if (!loaded.ok) throw new OkesuError('OKS_ERR_CONFIG', `host policy: ${loaded.errors.map(formatSpecError).join('; ')}`);
  // Logs go to stderr so stdout carries only the events.
  const log = createLogger({ name: 'okesu-agents', level: ctx.deps.env.OKESU_LOG_LEVEL ?? 'warn', fd: 2 });
  const abort = new AbortController();
  const onSignal = (): void => abort.abort('interrupted');
  process.once('SIGINT', onSignal);
  ctx.deps.signal?.addEventListener('abort', onSignal, { once: true });
  try {
    return await runAgentLocally({
      agent, prompt: opts.prompt, inputs: opts.input, policy: loaded.policy, stateDir: resolve(opts.stateDir),
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
