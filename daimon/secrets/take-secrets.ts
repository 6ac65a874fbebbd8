import { OkesuError } from '../../src/errors.js';
import { createSecretStore, PROVIDER_SETTINGS, SECRET_SETTINGS } from './secret-store.js';
import type { ProviderSettingName, ProviderSettings, SecretStore } from './secret-store.js';
import { checkSettingValue, readSecretsFile } from './secrets-file.js';

/** What `takeProviderSecrets` took, and from where (names only). */
export interface TakenSecrets {
  store: SecretStore;
  fromFile: ProviderSettingName[];
  fromEnv: ProviderSettingName[];
  /** Set in both places with different values: the file's won. */
  overridden: ProviderSettingName[];
}

/**
 * Takes the provider settings once, at start: from the secrets file (when given) and from `env`, the file winning
 * where both set a name. Every provider setting is then deleted from `env` (the daimon passes its `process.env`),
 * so nothing started later — a collector, a tool, a custom agent, an SDK reading the environment — can see them.
 * Everything is validated before `env` is touched: a bad value leaves it as it was.
 */
export function takeProviderSecrets(opts: { env: NodeJS.ProcessEnv; file?: string }): TakenSecrets {
  const fromFile = opts.file === undefined ? {} : readSecretsFile(opts.file);
  const fromEnv: ProviderSettings = {};
  for (const name of PROVIDER_SETTINGS) {
    const value = opts.env[name]?.trim();
    if (!value) continue;
    const problem = checkSettingValue(name, value);
    if (problem) throw new OkesuError('OKS_ERR_CONFIG', `environment variable ${name}: ${problem}`);
    fromEnv[name] = value;
  }
  for (const name of PROVIDER_SETTINGS) delete opts.env[name];
  const names = (s: ProviderSettings): ProviderSettingName[] => PROVIDER_SETTINGS.filter((n) => s[n] !== undefined);
  const store = createSecretStore({ ...fromEnv, ...fromFile });
  const overridden = names(fromFile).filter((n) => fromEnv[n] !== undefined && fromEnv[n] !== fromFile[n]);
  // The environment's key lost, but it is a key all the same: it is redacted like the one in use.
  for (const name of overridden) if (SECRET_SETTINGS.has(name)) store.hold(name, fromEnv[name] as string);
  return { store, fromFile: names(fromFile), fromEnv: names(fromEnv), overridden };
}
