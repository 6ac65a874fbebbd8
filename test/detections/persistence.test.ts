import * as vitest from 'vitest';
import { describe, expect, it } from 'vitest';
import { runAgentCli, sandbox } from '../agents/sandbox.js';
import { describeCases } from './detection-case.js';
import { cases } from './cases/persistence.js';

// Every rule of agents/persistence.md against a host tree planted in a sandbox (through the agent's `root` input),
// through the built CLI (npm run build).
describeCases('persistence: planted cases and their clean counterparts', cases, vitest);

describe('persistence on a host that has none of the files', () => {
  it('skips what is missing with a reason, fails nothing and reports nothing', async () => {
    const box = sandbox('okesu-persist-empty-');
    try {
      const run = await runAgentCli('persistence', { root: box.dir }, `${box.dir}/state`, box.policy);
      expect(run.code, run.stderr).toBe(0);
      const results = run.events.filter((e) => e.type === 'collector_result');
      expect(results.map((r) => r.name)).toHaveLength(8);
      for (const r of results) {
        expect(r.error, String(r.name)).toBeUndefined();
        if (r.skipped === true) expect(String(r.skip_reason), String(r.name)).not.toBe('');
      }
      expect(results.filter((r) => r.skipped === true).map((r) => r.name).sort()).toEqual(['accounts', 'sshd_settings', 'sudoers', 'systemd_units', 'udev_rules']);
      expect(run.findings).toEqual([]);
      expect(run.events.at(-1)).toMatchObject({ type: 'run_end', status: 'completed' });
    } finally {
      box.cleanup();
    }
  }, 60_000);

  it('refuses a relative root with a clear error', async () => {
    const box = sandbox('okesu-persist-rel-');
    try {
      const run = await runAgentCli('persistence', { root: 'etc' }, `${box.dir}/state`, box.policy);
      const accounts = run.collector('accounts');
      expect(String(accounts?.error ?? '')).toMatch(/root must be an absolute path/);
    } finally {
      box.cleanup();
    }
  }, 60_000);
});
