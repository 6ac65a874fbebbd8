import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync, copyFileSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { lifecyclePaths } from '../../daimon/lifecycle/state-layout.js';
import type { HostView } from '../../src/protocol/api.js';
import type { StoredFinding } from '../../src/protocol/finding.js';
import { okesuJson, runOkesu, spawnOkesu, startCp, stop, tempDir, waitFor, type CpProcess, type OkesuProcess } from './harness.js';
import { brokenVersion, buildVersion, health, upgradeResult } from './upgrade-harness.js';

// `okesu supervise` with real daimons (okesu bundles stamped 1.0.0 and 2.0.0) and a real CP. The trial is planted
// the way the daimon stages one (docs/lifecycle.md step 4: staged file, pending.json, previous, current swapped) and
// the old daimon stopped; upgrade.test.ts drives the same through the CP's rollouts.

const procs: Array<{ p: OkesuProcess; signal: NodeJS.Signals }> = [];
afterEach(async () => {
  // SIGTERM for supervisors: they stop their daimon (its own process group) before exiting.
  await Promise.all(procs.splice(0).map(({ p, signal }) => stop(p, signal)));
});

let bin: string;
let v1: string;
let v2: string;
beforeAll(async () => {
  bin = tempDir('versions');
  [v1, v2] = [buildVersion('1.0.0', bin), buildVersion('2.0.0', bin)];
}, 60_000);

/** A monitor ticked every second: a finding for each line new in a file since the previous tick. */
const WATCH_AGENT = [
  '---', 'name: watch-lines', 'version: 1.0.0', 'mode: daemon', 'interval: 1s', 'command: [sh, -c, "cat >/dev/null"]', 'inputs: { file: /nonexistent }',
  'collectors: [{ name: lines, command: \'cat "$OKESU_INPUT_FILE"\' }]', 'rules:',
  "  - { name: new-line, collector: lines, match: '^(?<word>\\w+)$', new_since: last_run, finding: { severity: medium, title: 'New line {{word}}', resource: 'word:{{word}}' } }",
  '---', 'Watches a file.',
].join('\n');

async function online(cp: CpProcess, hostname: string, version: string): Promise<HostView> {
  return waitFor(`${hostname} online on ${version}`, async () => (await okesuJson<HostView[]>(['hosts'], cp.env)).find((h) => h.hostname === hostname && h.connected && h.version === version), 30_000);
}

/** Plants what a daimon leaves when it staged `file` as VERSION (no bin/current before: the running bundle is copied). */
function plantTrial(state: string, file: string, version: string, timeoutMs: number): void {
  const paths = lifecyclePaths(state);
  mkdirSync(paths.bin, { recursive: true, mode: 0o700 });
  mkdirSync(paths.upgrade, { recursive: true, mode: 0o700 });
  copyFileSync(v1, paths.scriptExecutable('1.0.0'));
  const staged = file.endsWith('.js') ? paths.scriptExecutable(version) : paths.executable(version);
  copyFileSync(file, staged);
  writeFileSync(paths.pending, JSON.stringify({ rollout_id: 'ro_00000000000000e1', from_version: '1.0.0', to_version: version, health_timeout_ms: timeoutMs, swapped_at: Date.now() }));
  symlinkSync('okesu-1.0.0.mjs', paths.previous);
  symlinkSync(basename(staged), paths.current);
}

async function supervised(cp: CpProcess, name: string, extra: string[] = []): Promise<{ state: string; sup: OkesuProcess }> {
  const state = tempDir(`${name}-state`);
  const token = (await runOkesu(['token', 'create', '--join'], cp.env)).stdout.trim();
  const sup = spawnOkesu(['supervise', '--state', state, '--', 'daemon', '--state', state, '--cp', cp.url, '--hostname', name, '--log-level', 'warn', ...extra], { OKESU_JOIN_TOKEN: token }, v1);
  procs.push({ p: sup, signal: 'SIGTERM' });
  onTestFailed(() => void process.stderr.write(`--- supervise ${name} ---\n${sup.stdoutLines.slice(-60).join('\n')}\n${sup.stderr().slice(-4000)}\n`));
  return { state, sup };
}

describe('okesu supervise with real daimons', () => {
  it('a trial version that exits at start is rolled back; the old version comes back online with the same identity', async () => {
    const cp = await startCp(tempDir('cp'));
    procs.push({ p: cp.proc, signal: 'SIGKILL' });
    const { state } = await supervised(cp, 'trial-01');
    await online(cp, 'trial-01', '1.0.0');
    const identity = readFileSync(join(state, 'identity.json'), 'utf8');
    const oldPid = health(state)?.pid;
    expect(oldPid).toBeGreaterThan(0);

    plantTrial(state, brokenVersion(bin, 'exits-3', { exit: 3 }), '2.0.0', 30_000);
    process.kill(oldPid as number, 'SIGTERM');
    const result = await waitFor('the rollback', () => upgradeResult(state), 20_000);
    expect(result).toMatchObject({ outcome: 'rolled_back', version: '2.0.0', reason: 'exited with code 3 before its first heartbeat' });
    await waitFor('the old version healthy again', () => health(state)?.version === '1.0.0' && health(state)?.pid !== oldPid, 30_000);
    await online(cp, 'trial-01', '1.0.0');
    expect(readFileSync(join(state, 'identity.json'), 'utf8')).toBe(identity);
    expect((await okesuJson<HostView[]>(['hosts'], cp.env)).filter((h) => h.hostname.startsWith('trial-'))).toHaveLength(1);
  });

  it('a version that passes its trial keeps the identity and delivers the events the old one spooled while the CP was away', async () => {
    const cpState = tempDir('cp');
    let cp = await startCp(cpState);
    procs.push({ p: cp.proc, signal: 'SIGKILL' });
    const sandbox = tempDir('watch');
    mkdirSync(join(sandbox, 'agents'));
    writeFileSync(join(sandbox, 'agents', 'watch-lines.md'), WATCH_AGENT);
    const watched = join(sandbox, 'watched.txt');
    writeFileSync(watched, 'alpha\n');
    const { state } = await supervised(cp, 'spool-01', ['--agents', join(sandbox, 'agents'), '--enable', 'watch-lines', '--input', `watch-lines.file=${watched}`]);
    await online(cp, 'spool-01', '1.0.0');
    const oldPid = health(state)?.pid as number;

    // The CP goes away; the old version finds something and can only spool it.
    await stop(cp.proc, 'SIGTERM');
    appendFileSync(watched, 'gamma\n');
    await waitFor('the finding in the spool', () => readdirSync(join(state, 'spool')).some((f) => readFileSync(join(state, 'spool', f), 'utf8').includes('New line gamma')), 20_000);

    plantTrial(state, v2, '2.0.0', 60_000);
    process.kill(oldPid, 'SIGTERM');
    cp = await startCp(cpState, cp.port);
    procs.push({ p: cp.proc, signal: 'SIGKILL' });
    expect(await waitFor('the trial verdict', () => upgradeResult(state), 40_000)).toMatchObject({ outcome: 'healthy', version: '2.0.0' });
    await online(cp, 'spool-01', '2.0.0');
    await waitFor('the spooled finding at the CP', async () => (await okesuJson<StoredFinding[]>(['findings', '--host', 'spool-01'], cp.env)).some((f) => f.title === 'New line gamma'), 20_000);
  });
});
