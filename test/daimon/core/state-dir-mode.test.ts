import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDaimon, type Daimon } from '../../../daimon/daimon.js';
import { openSpool } from '../../../daimon/spool/spool.js';
import { securePrivateDir } from '../../../src/files/private-dir.js';
import { startCp, waitFor, type CpHarness } from '../../cp/cp-harness.js';
import { captureLogger, tempDir } from './helpers.js';

/** Every directory and file under `root` (itself included) with its permission bits, without following links. */
function walk(root: string): { path: string; kind: 'dir' | 'file'; mode: number }[] {
  const out: { path: string; kind: 'dir' | 'file'; mode: number }[] = [];
  const pending = [root];
  for (let d = pending.pop(); d !== undefined; d = pending.pop()) {
    out.push({ path: d, kind: 'dir', mode: lstatSync(d).mode & 0o777 });
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const st = lstatSync(path);
      if (st.isDirectory()) pending.push(path);
      else if (st.isFile()) out.push({ path, kind: 'file', mode: st.mode & 0o777 });
    }
  }
  return out;
}

const FINDING_AGENT = `---\nname: perms\nversion: "1.0.0"\ncommand: ${JSON.stringify(['node', '-e', `process.stdout.write(JSON.stringify({ type: 'finding', severity: 'low', title: 'Seen', category: 'other', resource: 'x:/y', dedup_key: 'k' }) + '\\n')`])}\n---\nLook.\n`;

let h: CpHarness;
let daimon: Daimon | undefined;
let umask: number;
beforeEach(async () => {
  umask = process.umask(0o022);
  h = await startCp();
});
afterEach(async () => {
  await daimon?.stop();
  await h.close();
  process.umask(umask);
});

describe('the daimon state directory', () => {
  it('is 0700 with every file 0600 after a start over a pre-existing 0755 directory, under umask 022', async () => {
    const state = tempDir('perm-state');
    chmodSync(state, 0o755);
    // what an older version left behind: a readable spool segment in a readable directory
    mkdirSync(join(state, 'spool'), { mode: 0o755 });
    writeFileSync(join(state, 'spool', 'seg-0000000000000000.jsonl'), '', { mode: 0o644 });
    const agents = tempDir('perm-agents');
    writeFileSync(join(agents, 'perms.md'), FINDING_AGENT);

    const { token } = await h.admin.createToken({ kind: 'join', uses: 1 });
    daimon = createDaimon(
      { stateDir: state, cp: h.url, token, hostname: 'perm-01', agentDirs: [agents], builtinAgents: false, version: '1.0.0' },
      { log: captureLogger('warn').log, env: { PATH: process.env.PATH } },
    );
    await daimon.start();
    await waitFor(async () => (await h.admin.hosts()).some((x) => x.hostname === 'perm-01' && x.connected), 10_000, 'perm-01 online');
    const run = await h.admin.createRun({ agent: 'perms', host: 'perm-01' });
    await waitFor(async () => (await h.admin.getRun(run.run_id)).status === 'completed', 20_000, 'the run to complete');
    await daimon.stop();
    daimon = undefined;

    const entries = walk(state);
    // identity, key, the spool's ack log, agent state: the run wrote them all (its acknowledged segments are gone)
    const names = entries.map((e) => e.path.slice(state.length + 1));
    expect(names).toEqual(expect.arrayContaining(['identity.json', 'key.pem', 'spool', 'spool/acks.jsonl', 'agents', 'agents/perms']));
    for (const e of entries) expect({ path: e.path, mode: e.mode.toString(8) }).toEqual({ path: e.path, mode: e.kind === 'dir' ? '700' : '600' });
  });

  it('keeps spool segments 0600 in a 0700 spool directory, under umask 022', async () => {
    const dir = join(tempDir('perm-spool'), 'spool');
    const spool = await openSpool({ dir });
    try {
      await spool.append([{ run_id: `r_${'0'.repeat(26)}`, seq: 1, event: { type: 'text', ts: 1, agent: 'edr' } }]);
      const entries = walk(dir);
      expect(entries.map((e) => e.path.slice(dir.length + 1)).filter((n) => n.startsWith('seg-'))).toHaveLength(1);
      for (const e of entries) expect({ path: e.path, mode: e.mode.toString(8) }).toEqual({ path: e.path, mode: e.kind === 'dir' ? '700' : '600' });
    } finally {
      await spool.close();
    }
  });

  it('refuses a state directory that is not a directory, or not ours, naming it', () => {
    const base = tempDir('perm-refuse');
    const notADir = join(base, 'file');
    writeFileSync(notADir, 'x');
    expect(() => securePrivateDir(notADir)).toThrow(`state directory ${notADir} is not a directory`);
    // someone else's directory: as root, one chowned away; otherwise / (root's)
    let foreign = '/';
    if (process.getuid?.() === 0) {
      foreign = join(base, 'foreign');
      mkdirSync(foreign, { mode: 0o755 });
      chownSync(foreign, 12345, 12345);
    }
    expect(() => securePrivateDir(foreign)).toThrow(new RegExp(`state directory ${foreign} is owned by uid \\d+, not by this process`));
    if (foreign !== '/') expect(lstatSync(foreign).mode & 0o777).toBe(0o755);
  });
});
