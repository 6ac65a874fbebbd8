import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { OkesuError } from '../errors.js';
import { clientConfigSchema } from '../protocol/client-config.js';
import type { ClientConfig } from '../protocol/client-config.js';

/** Where a client config path came from. */
export type ConfigSource = '--config' | 'OKESU_CONFIG' | 'default';

/** The config file to use: `--config FILE`, else `$OKESU_CONFIG`, else `~/.config/okesu/config.yaml`. */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv, home: string = homedir()): { path: string; source: ConfigSource } {
  if (flag) return { path: flag, source: '--config' };
  if (env.OKESU_CONFIG) return { path: env.OKESU_CONFIG, source: 'OKESU_CONFIG' };
  return { path: join(home, '.config', 'okesu', 'config.yaml'), source: 'default' };
}

/** Reads and validates an operator client context (like `admin.yaml`); every problem is an OKS_ERR_CONFIG naming the file and the field. */
export function loadClientConfig(flag?: string, env: NodeJS.ProcessEnv = process.env, home: string = homedir()): ClientConfig {
  const { path, source } = resolveConfigPath(flag, env, home);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    if (source === 'default' && code === 'ENOENT') {
      throw new OkesuError(
        'OKS_ERR_CONFIG',
        `no client config at ${path}; pass --config <cp state dir>/admin.yaml (or set OKESU_CONFIG)`,
      );
    }
    throw new OkesuError('OKS_ERR_CONFIG', `cannot read ${path} (from ${source}): ${code}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new OkesuError('OKS_ERR_CONFIG', `${path}: invalid YAML: ${oneLine(err instanceof Error ? err.message : String(err))}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new OkesuError('OKS_ERR_CONFIG', `${path}: expected a mapping with cp, ca and token`);
  }
  const parsed = clientConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const record = raw as Record<string, unknown>;
    const problems = parsed.error.issues.map((issue) => {
      const field = issue.path.length ? issue.path.join('.') : '(root)';
      const missing = issue.path.length === 1 && record[String(issue.path[0])] === undefined;
      return missing ? `${field}: missing` : `${field}: ${issue.message}`;
    });
    throw new OkesuError('OKS_ERR_CONFIG', `${path}: ${problems.join('; ')}`);
  }
  return parsed.data;
}

function oneLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
