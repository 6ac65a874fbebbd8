import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HostView, RunView } from '../../src/protocol/api.js';
import type { StoredFinding } from '../../src/protocol/finding.js';
import { okesuJson, runOkesu, spawnOkesu, startCp, stop, tempDir, waitFor, type OkesuProcess } from './harness.js';

const procs: OkesuProcess[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGKILL')));
});

/** A monitor ticked every second: reports lines that are new in a file since the previous tick (the first tick records). */
const WATCH_AGENT = [
  '---',
  'name: watch-lines',
  'version: 1.0.0',
  'mode: daemon',
  'interval: 1s',
  'command: [sh, -c, "cat >/dev/null"]',
  'inputs: { file: /nonexistent }',
  'collectors: [{ name: lines, command: \'cat "$OKESU_INPUT_FILE"\' }]',
  'rules:',
  "  - { name: new-line, collector: lines, match: '^(?<word>\\w+)$', new_since: last_run, finding: { severity: medium, title: 'New line {{word}}', resource: 'word:{{word}}' } }",
  '---',
  'Watches a file.',
].join('\n');

describe('a daimon ticking mode: daemon agents', () => {
  it('ticks the --enable’d agents with their --input values and their findings reach the CP; others stay quiet', async () => {
    const cp = await startCp(tempDir('cp'));
    procs.push(cp.proc);
    const sandbox = tempDir('tick-sandbox');
    const agents = join(sandbox, 'agents');
    mkdirSync(agents);
    writeFileSync(join(agents, 'watch-lines.md'), WATCH_AGENT);
    const watched = join(sandbox, 'watched.txt');
    writeFileSync(watched, 'alpha\n');

    const token = (await runOkesu(['token', 'create', '--join'], cp.env)).stdout.trim();
    procs.push(spawnOkesu([
      'daemon', '--cp', cp.url, '--token', token, '--state', join(sandbox, 'state'), '--hostname', 'tick-01', '--log-level', 'warn',
      '--agents', agents, '--enable', 'watch-lines,sre-health',
      '--input', `watch-lines.file=${watched}`,
      // The built-in sre-health, pointed at the sandbox's filesystem with a threshold any disk passes.
      '--input', `sre-health.disk_paths=${sandbox}`, '--input', 'sre-health.disk_full_pct=0',
    ]));
    await waitFor('tick-01 online', async () => (await okesuJson<HostView[]>(['hosts'], cp.env)).some((h) => h.hostname === 'tick-01' && h.connected));

    // sre-health reports its deterministic finding with no API key; the run completes.
    const disk = await waitFor('the sre-health disk finding', async () => {
      const found = await okesuJson<StoredFinding[]>(['findings', '--host', 'tick-01'], cp.env);
      return found.find((f) => f.agent === 'sre-health' && /full/i.test(f.title));
    }, 60_000);
    expect(disk.severity).toMatch(/HIGH|MEDIUM|CRITICAL/);

    // The first tick of watch-lines only recorded; a new line is reported by a later tick.
    await waitFor('a completed watch-lines tick', async () => (await okesuJson<RunView[]>(['runs', '--host', 'tick-01'], cp.env))
      .some((r) => r.agent === 'watch-lines' && r.status === 'completed'));
    appendFileSync(watched, 'bravo\n');
    const fresh = await waitFor('the new-line finding', async () => {
      const found = await okesuJson<StoredFinding[]>(['findings', '--host', 'tick-01'], cp.env);
      const mine = found.filter((f) => f.agent === 'watch-lines');
      return mine.length > 0 ? mine : undefined;
    }, 30_000);
    expect(fresh.map((f) => f.title)).toEqual(['New line bravo']);

    const runs = await okesuJson<RunView[]>(['runs', '--host', 'tick-01'], cp.env);
    // Only what was enabled ticks: no edr, instance-* runs.
    expect(new Set(runs.map((r) => r.agent))).toEqual(new Set(['watch-lines', 'sre-health']));
    expect(runs.find((r) => r.agent === 'sre-health' && r.status !== 'running')?.status).toBe('completed');
  });

  it('refuses to start with an --enable that names no mode: daemon agent', async () => {
    const sandbox = tempDir('tick-bad');
    const r = await runOkesu(['daemon', '--cp', 'https://127.0.0.1:9', '--token', 'x', '--state', join(sandbox, 'state'), '--enable', 'edr-investigator']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--enable edr-investigator: agent edr-investigator is mode: oneshot');
  });
});
