import { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from '../../files/atomic-write.js';
import { describeIssues } from '../../protocol/event.js';
import { OkesuError } from '../../errors.js';

/** What `okesu install` did, kept in STATE/install.json for the next install and for `okesu uninstall`. */
export const installFactsSchema = z.strictObject({
  version: z.string().max(64),
  /** SHA-256 of the installed executable. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  prefix: z.string(),
  init: z.enum(['systemd', 'none']),
  user: z.string().max(64),
  state_dir: z.string(),
  executable: z.string(),
  daemon_args: z.array(z.string()),
  hostname: z.string().max(253),
  installed_at: z.number().int(),
});
/** STATE/install.json. */
export type InstallFacts = z.infer<typeof installFactsSchema>;

/** Reads STATE/install.json; undefined when absent; OKS_ERR_INSTALL naming the file when damaged. */
export function readInstallFacts(path: string): InstallFacts | undefined {
  const text = readFileIfExists(path);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new OkesuError('OKS_ERR_INSTALL', `${path} is not JSON; remove it and install again`);
  }
  const parsed = installFactsSchema.safeParse(json);
  if (!parsed.success) throw new OkesuError('OKS_ERR_INSTALL', `${path}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** Writes STATE/install.json atomically (0600). */
export function writeInstallFacts(path: string, facts: InstallFacts): void {
  writeFileAtomic(path, `${JSON.stringify(facts, null, 2)}\n`);
}
