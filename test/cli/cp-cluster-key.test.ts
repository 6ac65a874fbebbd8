import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { readClusterKey } from '../../src/cp/cluster/cluster-key.js';
import { testDeps } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const deps = testDeps();
  const code = await runCli(args, deps);
  return { code, out: deps.stdout.text(), err: deps.stderr.text() };
}

describe('okesu cp cluster-key', () => {
  it('writes a new key 0600, says where it is and that every replica needs the same file; never overwrites it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'okesu-cli-cluster-key-'));
    dirs.push(dir);
    const file = join(dir, 'cluster.key');
    const made = await cli(['cp', 'cluster-key', '--out', file]);
    expect(made.code).toBe(0);
    expect(made.out).toBe(`wrote a new cluster key to ${file} (mode 0600)\n`);
    expect(made.err).toContain(`every replica needs a copy of this same file: okesu cp serve --store postgres://… --cluster-key-file ${file}`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const key = readClusterKey(file);
    // The key itself is never printed.
    expect(made.out + made.err).not.toContain(readFileSync(file, 'utf8').trim());

    const again = await cli(['cp', 'cluster-key', '--out', file, '--json']);
    expect(again.code).toBe(1);
    expect(again.err).toContain('OKS_ERR_CLUSTER_KEY');
    expect(again.err).toContain('refusing to overwrite');
    expect(readClusterKey(file).bytes.equals(key.bytes)).toBe(true);
  });

  it('prints {file} with --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'okesu-cli-cluster-key-'));
    dirs.push(dir);
    const file = join(dir, 'k');
    const made = await cli(['cp', 'cluster-key', '--out', file, '--json']);
    expect(made.code).toBe(0);
    expect(JSON.parse(made.out)).toEqual({ file });
  });
});
