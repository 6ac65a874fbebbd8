import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAgentPipeline } from '../../../daimon/agent-run/agent-pipeline.js';
import type { Provider } from '../../../daimon/provider.js';
import { createCustomProvider } from '../../../daimon/providers/custom-provider.js';
import { executeRun } from '../../../daimon/run-executor.js';
import { createCgroupContainment } from '../../../daimon/run/cgroup-containment.js';
import type { Containment } from '../../../daimon/run/containment.js';
import { detectContainment, ownCgroupDir } from '../../../daimon/run/detect-containment.js';
import { createToolbox } from '../../../daimon/tools/toolbox.js';
import type { EventBody, RunEndStatus } from '../../../src/protocol/event.js';
import type { AgentSpec } from '../../../src/specs/agent-spec.js';
import { formatSpecError, parseAgent } from '../../../src/specs/parse-agent.js';
import { EMPTY_POLICY } from '../../../src/specs/policy-spec.js';
import { memoryLogger } from '../run-helpers.js';
import { cgroupOfPid, cgroupsOf, processesWithArg, uniqueRunId, uniqueSleep } from './containment-helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'okesu-contain-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function agent(front: string[]): AgentSpec {
  const parsed = parseAgent(`---\n${front.join('\n')}\n---\nbody\n`, 'probe.md');
  if (!parsed.ok) throw new Error(parsed.errors.map(formatSpecError).join('\n'));
  return parsed.agent;
}

/** Stands in for the model: calls bash once with `command`. */
const bashCaller = (command: string): Provider => ({
  async run(ctx, emit) {
    const reply = await ctx.toolbox?.call({ id: 't1', name: 'bash', input: { command } }, ctx.signal, emit);
    return reply?.isError === false ? { status: 'completed' } : { status: 'failed', error: reply?.content ?? 'no toolbox' };
  },
});

interface RunResult {
  status: RunEndStatus;
  events: EventBody[];
  runId: string;
}

/** One whole run through the pipeline (collectors, then the custom command or bash), as the daimon runs it. */
async function runAgent(containment: Containment, spec: AgentSpec, opts: { timeoutMs?: number; signal?: AbortSignal; bash?: string; onEvent?: (e: EventBody) => void } = {}): Promise<RunResult> {
  const events: EventBody[] = [];
  const runId = uniqueRunId();
  const pipeline = createAgentPipeline({
    policy: EMPTY_POLICY, stateDir: join(dir, 'state'),
    providerFor: (a) => (a.provider === 'custom' ? createCustomProvider({ killGraceMs: 300 }) : bashCaller(opts.bash ?? 'true')),
    toolboxFor: (a, p, run) => createToolbox(a, p, { ...run, killGraceMs: 300 }),
  });
  const status = await executeRun({
    runId, hostname: 'web-1', agent: spec, prompt: 'p', inputs: {}, timeoutMs: opts.timeoutMs ?? 60_000,
    signal: opts.signal ?? new AbortController().signal, provider: pipeline(), log: memoryLogger(), containment, abortGraceMs: 5000,
    emit: async (e) => {
      events.push(e);
      opts.onEvent?.(e);
    },
  });
  return { status, events, runId };
}

const containments: [string, () => Containment][] = [
  ['cgroup', () => detectContainment({ mode: 'cgroup' })],
  ['subreaper', () => detectContainment({ mode: 'subreaper' })],
];

describe.each(containments)('containment by %s: every process a run starts ends with the run', (kind, make) => {
  const containment = make();

  it('is the kind asked for', () => {
    expect(containment.kind).toBe(kind);
  });

  it('a collector’s setsid sleep: the collector does not wait for it, and it is gone when the run ends', async () => {
    const s = uniqueSleep();
    const r = await runAgent(containment, agent(['name: probe', 'command: ["true"]', `collectors: [{ name: bg, command: "setsid sleep ${s} & echo started" }]`]));
    expect(r.status).toBe('completed');
    expect(r.events.find((e) => e.type === 'collector_result')).toMatchObject({ exit_code: 0 });
    expect(processesWithArg(s)).toEqual([]);
    expect(cgroupsOf(r.runId)).toEqual([]);
  });

  it('a custom command’s setsid sleep, holding stdout: the run ends when the command does, and the sleep with it', async () => {
    const s = uniqueSleep();
    const r = await runAgent(containment, agent(['name: probe', `command: "setsid sleep ${s} & echo started; exit 0"`]));
    expect(r.status).toBe('completed');
    expect(r.events.filter((e) => e.type === 'text').map((e) => e.text)).toEqual(['started']);
    expect(processesWithArg(s)).toEqual([]);
    expect(cgroupsOf(r.runId)).toEqual([]);
  });

  it('a detached grandchild that ignores SIGTERM and holds stdout: SIGKILL after the grace, the run does not hang', async () => {
    const s = uniqueSleep();
    const r = await runAgent(containment, agent(['name: probe', `command: "setsid sh -c 'trap \\"\\" TERM; sleep ${s}; echo never' & echo started"`]));
    expect(r.status).toBe('completed');
    expect(processesWithArg(s)).toEqual([]);
  });

  it('a bash call’s setsid sleep: the call returns, and the sleep is gone when the run ends', async () => {
    const s = uniqueSleep();
    const r = await runAgent(containment, agent(['name: probe', 'provider: claude', 'tools: [bash]']), { bash: `setsid sleep ${s} & echo started` });
    expect(r.status).toBe('completed');
    expect(r.events.find((e) => e.type === 'tool_result')).toMatchObject({ output: 'started\n[exit code 0]', is_error: false });
    expect(processesWithArg(s)).toEqual([]);
    expect(cgroupsOf(r.runId)).toEqual([]);
  });

  it('timeout: the run ends `timeout` and nothing it started is left, even what ignores SIGTERM', async () => {
    const s = uniqueSleep();
    const r = await runAgent(containment, agent(['name: probe', `command: "trap '' TERM; setsid sleep ${s} & sleep ${uniqueSleep()}"`]), { timeoutMs: 1000 });
    expect(r.status).toBe('timeout');
    expect(processesWithArg(s)).toEqual([]);
    expect(cgroupsOf(r.runId)).toEqual([]);
  });

  it('cancel: the run ends `cancelled` and nothing it started is left, detached or not', async () => {
    const s = uniqueSleep();
    const cancel = new AbortController();
    let inScope = '';
    const r = await runAgent(
      containment,
      agent(['name: probe', `command: "setsid sleep ${s} & echo '{\\"type\\":\\"ready\\",\\"pid\\":'$!'}'; sleep ${uniqueSleep()} & sleep ${uniqueSleep()}"`]),
      {
        onEvent: (e) => {
          if (e.type !== 'ready') return;
          inScope = cgroupOfPid(e.pid as number);
          cancel.abort('operator said stop');
        },
        signal: cancel.signal,
      },
    );
    expect(r.status).toBe('cancelled');
    expect(processesWithArg(s)).toEqual([]);
    expect(cgroupsOf(r.runId)).toEqual([]);
    if (kind === 'cgroup') expect(inScope).toContain(`/okesu-${r.runId}-`);
  });
});

describe('containment by subreaper: a process that kills its wrapper', () => {
  it('is still found by the run’s environment marker and killed when the run ends', async () => {
    const s = uniqueSleep();
    // Only ever the perl wrapper: guarded, so the test can never kill its own runner.
    const escape = `setsid sleep ${s} & [ \\"$(cat /proc/$PPID/comm)\\" = perl ] && kill -9 $PPID; sleep 5`;
    const r = await runAgent(detectContainment({ mode: 'subreaper' }), agent(['name: probe', `command: "${escape}"`]));
    expect(r.status).toBe('failed');
    expect(processesWithArg(s)).toEqual([]);
  });
});

describe('containment by cgroup without cgroup.kill (kernels before 5.14): freeze, then SIGKILL each', () => {
  it('ends a run’s processes all the same', async () => {
    const own = ownCgroupDir();
    if (!own.ok) throw new Error(own.why);
    const s = uniqueSleep();
    const r = await runAgent(createCgroupContainment(own.dir, { freezeKill: true }), agent(['name: probe', `command: "trap '' TERM; setsid sleep ${s} & sleep ${uniqueSleep()}"`]), { timeoutMs: 500 });
    expect(r.status).toBe('timeout');
    expect(processesWithArg(s)).toEqual([]);
    expect(cgroupsOf(r.runId)).toEqual([]);
  });
});

describe('containment by cgroup after the daimon was killed with runs in flight', () => {
  it('its next life ends those runs’ processes and removes their cgroups; another daimon’s runs are untouched', async () => {
    const own = ownCgroupDir();
    if (!own.ok) throw new Error(own.why);
    const tag = (): string => uniqueRunId().slice(6, 14);
    const [mine, other] = [tag(), tag()];
    const spawnSleep = (c: Containment, s: string): string => {
      const runId = uniqueRunId();
      // The scope is never closed: the daimon that opened it "dies" here.
      c.openRun(runId).spawn('sh', ['-c', `setsid sleep ${s} & sleep ${uniqueSleep()}`], { env: { PATH: '/usr/bin:/bin' }, stdio: 'ignore', killGraceMs: 100 });
      return runId;
    };
    const [left, others] = [uniqueSleep(), uniqueSleep()];
    const leftRun = spawnSleep(createCgroupContainment(own.dir, { owner: mine }), left);
    const otherRun = spawnSleep(createCgroupContainment(own.dir, { owner: other }), others);
    await waitUntil(() => processesWithArg(left).length > 0 && processesWithArg(others).length > 0);
    try {
      expect(await createCgroupContainment(own.dir, { owner: mine }).reapLeftovers?.()).toBe(1);
      expect(processesWithArg(left)).toEqual([]);
      expect(cgroupsOf(leftRun)).toEqual([]);
      expect(processesWithArg(others).length).toBeGreaterThan(0);
      expect(cgroupsOf(otherRun)).toHaveLength(1);
    } finally {
      await createCgroupContainment(own.dir, { owner: other }).reapLeftovers?.();
    }
    expect(processesWithArg(others)).toEqual([]);
    expect(cgroupsOf(otherRun)).toEqual([]);
  });
});

async function waitUntil(ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the processes to start');
    await new Promise((r) => setTimeout(r, 20));
  }
}
