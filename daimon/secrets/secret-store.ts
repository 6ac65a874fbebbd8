import { inspect } from 'node:util';

/** The provider settings a daimon takes at start, from its environment or `--secrets-file` (SPEC §4.1). */
export const PROVIDER_SETTINGS = ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL', 'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'OPENAI_ORG_ID', 'OPENAI_PROJECT_ID'] as const;

/** One provider setting's name. */
export type ProviderSettingName = (typeof PROVIDER_SETTINGS)[number];

/** Provider settings by name, as given (absent when not given). */
export type ProviderSettings = Partial<Record<ProviderSettingName, string>>;

/** The provider settings whose values are secrets: held for redaction. URLs and ids are settings, not secrets. */
export const SECRET_SETTINGS: ReadonlySet<ProviderSettingName> = new Set(['ANTHROPIC_API_KEY', 'OPENAI_API_KEY']);

/**
 * Shortest value that is redacted. A shorter "secret" (a test key, a typo) would turn common words of every event
 * into markers and protects nothing anyway.
 */
export const MIN_REDACTED_LENGTH = 8;

/** What the model providers are given: read access to the provider settings, nothing else. */
export interface SecretReader {
  /** The setting's value, or undefined when it was not given. */
  get(name: ProviderSettingName): string | undefined;
}

/** A secret value the daimon holds, under the name its redaction marker shows. */
export interface HeldSecret {
  name: string;
  value: string;
}

/** The daimon's secrets, in memory only: provider settings plus what it learns later (host credential, join token). */
export interface SecretStore extends SecretReader {
  /** Holds one more secret value for redaction (ignored when shorter than MIN_REDACTED_LENGTH or already held). */
  hold(name: string, value: string): void;
  /** Every secret value held that is long enough to redact, with its name. */
  held(): readonly HeldSecret[];
  /** Bumped whenever a secret is added, so a redactor knows to rebuild its matcher. */
  generation(): number;
  /** The names of the provider settings given (never their values), for the start-up log. */
  names(): ProviderSettingName[];
}

/**
 * An in-memory store over the provider settings in `settings` (other names are ignored; blank values are absent).
 * Values live only in closures: the store serialises to `{}` and prints as `SecretStore { names }`, so logging it
 * by mistake shows no value.
 */
export function createSecretStore(settings: Readonly<Record<string, string | undefined>> = {}): SecretStore {
  const values = new Map<ProviderSettingName, string>();
  const held: HeldSecret[] = [];
  let generation = 0;
  const hold = (name: string, value: string): void => {
    if (value.length < MIN_REDACTED_LENGTH || held.some((h) => h.value === value)) return;
    held.push({ name, value });
    generation++;
  };
  for (const name of PROVIDER_SETTINGS) {
    const value = settings[name]?.trim();
    if (!value) continue;
    values.set(name, value);
    if (SECRET_SETTINGS.has(name)) hold(name, value);
    // A proxy's password in a base URL (https://user:PASSWORD@proxy/) is a secret too; the rest of the URL is not.
    if (name.endsWith('_BASE_URL')) hold(name, urlPassword(value));
  }
  const store: SecretStore = {
    get: (name) => values.get(name),
    hold,
    held: () => held,
    generation: () => generation,
    names: () => [...values.keys()],
  };
  Object.defineProperty(store, inspect.custom, { value: () => `SecretStore { ${[...values.keys()].join(', ')} }` });
  Object.defineProperty(store, 'toJSON', { value: () => ({}) });
  return store;
}

function urlPassword(value: string): string {
  try {
    return new URL(value).password;
  } catch {
    return '';
  }
}
