import type { AgentSpec } from '../../src/specs/agent-spec.js';
import type { Provider } from '../provider.js';
import type { SecretReader } from '../secrets/secret-store.js';
import { createCustomProvider } from './custom-provider.js';

/** How the providers of one daimon (or one local run) are built. */
export interface ProviderSetOptions {
  /** The model providers' keys and base URLs, taken at start (default: none). */
  secrets?: SecretReader;
  /** The custom provider (default createCustomProvider()). */
  custom?: Provider;
  /** SDK retries on 429/5xx (default: the providers'). */
  maxRetries?: number;
}

/**
 * Picks the provider that drives an agent. The claude and codex providers — and the SDKs behind them — are loaded on
 * first use, so a daimon whose agents never call a model never evaluates them (its footprint is a measured target).
 */
export function createProviderSet(options: ProviderSetOptions = {}): (agent: AgentSpec) => Provider {
  const custom = options.custom ?? createCustomProvider();
  const modelOptions = { ...(options.secrets && { secrets: options.secrets }), ...(options.maxRetries !== undefined && { maxRetries: options.maxRetries }) };
  const claude = lazy(async () => (await import('./claude-provider.js')).createClaudeProvider(modelOptions));
  const codex = lazy(async () => (await import('./codex-provider.js')).createCodexProvider(modelOptions));
  return (agent) => {
    switch (agent.provider) {
      case 'custom':
        return custom;
      case 'claude':
        return claude;
      case 'codex':
        return codex;
    }
  };
}

/** A provider built on its first run. */
function lazy(build: () => Promise<Provider>): Provider {
  let provider: Promise<Provider> | undefined;
  return {
    async run(ctx, emit) {
      provider ??= build();
      return (await provider).run(ctx, emit);
    },
  };
}
