import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HostView } from '../../src/protocol/api.js';
import type { OrchestrationRunView } from '../../src/protocol/orchestration-api.js';
import { OKESU, TEST_AGENTS, okesuJson, runOkesu, spawnOkesu, startCp, stop, tempDir, waitFor, type CpProcess, type OkesuProcess } from './harness.js';
import { hasTmux, startTmux, type TmuxSession } from './tmux.js';

// The real `okesu console` (dist/okesu.js) in a tmux pane, against a real CP and real daimons. CI runs with CI=true,
// under which Ink would draw only its last frame: the pane runs the console under `env -u CI`.
const HOST = 'e2e-con1';
const procs: OkesuProcess[] = [];
const sessions: TmuxSession[] = [];
let cp: CpProcess;

const track = (p: OkesuProcess): OkesuProcess => (procs.push(p), p);
const startDaimon = async (hostname: string): Promise<OkesuProcess> => {
  const token = (await runOkesu(['token', 'create', '--join'], cp.env)).stdout.trim();
  const daimon = track(spawnOkesu(['daemon', '--cp', cp.url, '--token', token, '--state', tempDir(hostname), '--hostname', hostname, '--log-level', 'warn', '--agents', TEST_AGENTS]));
  await waitFor(`${hostname} online`, async () => (await okesuJson<HostView[]>(['hosts'], cp.env)).some((h) => h.hostname === hostname && h.state === 'online' && h.connected));
  return daimon;
};

/** The console in a new 120×40 pane; the pane then reports how it exited and the terminal's modes. */
async function openConsole(): Promise<TmuxSession> {
  const log = join(tempDir('console-log'), 'console.log');
  const command = [
    `printf 'before the console\\n'`,
    `env -u CI OKESU_CONFIG=${cp.env['OKESU_CONFIG'] as string} ${process.execPath} ${OKESU} console --log ${log}`,
    `echo "console exited $?"`,
    `echo "modes: $(stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(icanon|echo)$' | tr '\\n' ' ')"`,
    // Keeps the pane alive: tmux 3.3 redraws a dead pane without the lines the shell printed before the console.
    'exec sleep 3600',
  ].join('; ');
  const session = await startTmux(command, { width: 120, height: 40 });
  sessions.push(session);
  await session.waitForScreen('the console to load', (s) => /okesu console .*● connected/.test(s) && /● \d+ online/.test(s));
  return session;
}

/** The screen line naming `text`, or undefined. */
const lineWith = (screen: string, text: string): string | undefined => screen.split('\n').find((l) => l.includes(text));

beforeAll(async () => {
  if (!(await hasTmux())) throw new Error('these tests drive the console in tmux: install it (apt-get install -y tmux)');
  // A 1 s heartbeat: a silent host turns stale after 3 s and offline only after 12 s.
  // The CP's library holds the test agents too, so the dispatch view offers them.
  cp = await startCp(tempDir('con-cp'), 0, ['--heartbeat-interval', '1s', '--agents', TEST_AGENTS]);
  await startDaimon(HOST);
}, 120_000);

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.kill()));
});

afterAll(async () => {
  await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGKILL')));
  await stop(cp?.proc, 'SIGKILL');
});

describe('okesu console in a terminal, against a real CP and daimon', () => {
  it('shows the host online in the fleet view; q quits with 0 and gives the terminal back as it was', async () => {
    const tty = await openConsole();
    const screen = await tty.waitForScreen(`${HOST} online`, (s) => /●\s+online\s+e2e-con1\s+tunnel/.test(s));
    expect(screen).toMatch(/hosts\s+● 1 online\s+◐ 0 stale\s+○ 0 offline/);
    expect(await tty.display('#{alternate_on}')).toBe('1');

    await tty.key('q');
    const after = await tty.waitForScreen('the console to exit', (s) => s.includes('modes:'));
    expect(after).toContain('console exited 0');
    // The shell's screen is back (the console drew on the alternate screen), in cooked mode with echo, cursor shown.
    expect(after).toContain('before the console');
    expect(after).not.toContain('okesu console');
    expect(after).toMatch(/modes: icanon echo/);
    expect(await tty.display('#{alternate_on}')).toBe('0');
    expect(await tty.display('#{cursor_flag}')).toBe('1');
  });

  it('shows a finding in the live feed as the agent reports it', async () => {
    const tty = await openConsole();
    await tty.key('2');
    await tty.waitForScreen('the findings view', (s) => /Findings/.test(s));
    const run = await runOkesu(['run', 'emit-findings', '--host', HOST, '--wait'], cp.env);
    expect(run.code, run.stderr).toBe(0);
    // The run's two findings may reach the console in two stream batches: wait for the frame that has both.
    const screen = await tty.waitForScreen('both findings in the feed', (s) => s.includes('Reverse shell spawned by web server') && s.includes('Connection to known C2'));
    expect(lineWith(screen, 'Reverse shell spawned by web server')).toMatch(/CRIT/);
  });

  it('dispatches an agent from the dispatch view and shows the run complete', async () => {
    const tty = await openConsole();
    await tty.key('4');
    await tty.waitForScreen('the dispatch view', (s) => /^\s*Dispatch/m.test(s));
    // The search takes the agent's name; enter moves to the targets, where enter runs it.
    await tty.type('emit-f', (s, typed) => new RegExp(`› What\\s+${typed}`).test(s));
    await tty.waitForScreen('emit-findings highlighted', (s) => /›\s+agent\s+emit-findings/.test(s));
    await tty.key('Enter');
    await tty.type(HOST, (s, typed) => new RegExp(`› Targets\\s+${typed}`).test(s));
    await tty.waitForScreen('the plan', (s) => s.includes(`will run agent emit-findings on ${HOST}`));
    await tty.key('Enter');
    const screen = await tty.waitForScreen('the run to complete', (s) => /Run r_/.test(s) && /status\s+✓ completed/.test(s));
    expect(screen).toMatch(/agent\s+emit-findings/);
    expect(screen).toMatch(new RegExp(`host\\s+${HOST}`));
    const runId = /Run (r_[0-9A-Z]+)/.exec(screen)?.[1] as string;
    const view = await okesuJson<{ status: string; agent: string }>(['runs', 'show', runId], cp.env);
    expect(view).toMatchObject({ status: 'completed', agent: 'emit-findings' });
  });

  it('approves a waiting orchestration step from the console (a, then y) and the run finishes', async () => {
    const spec = join(tempDir('con-specs'), 'gate.yaml');
    writeFileSync(spec, [
      'name: e2e-console-gate',
      'steps:',
      `  - { id: gate, agent: orch-echo, node: ${HOST}, prompt: "contain web-01 now", approval: required, inputs: { x: gated } }`,
      '',
    ].join('\n'));
    const started = await runOkesu(['orchestrate', 'run', spec, '--json'], cp.env);
    expect(started.code, started.stderr).toBe(0);
    const id = (JSON.parse(started.stdout) as OrchestrationRunView).id;
    await waitFor('the run to wait for approval', async () => (await okesuJson<OrchestrationRunView>(['orchestrate', 'show', id], cp.env)).status === 'approval_required');

    const tty = await openConsole();
    await tty.key('3');
    await tty.waitForScreen('the run in the runs view', (s) => /e2e-console-gate\s+⏸ approval/.test(s));
    await tty.key('Enter');
    await tty.waitForScreen('the waiting step', (s) => s.includes('waiting for approval') && s.includes('contain web-01 now'));
    await tty.key('a');
    await tty.waitForScreen('the confirm question', (s) => /Approve step gate of e2e-console-gate\? .*\[y\/n\]/.test(s));
    await tty.key('y');
    await tty.waitForScreen('the run to complete', (s) => /e2e-console-gate\s+✓ completed/.test(s), 30_000);
    const run = await okesuJson<OrchestrationRunView>(['orchestrate', 'show', id], cp.env);
    expect(run.status).toBe('completed');
    expect(run.steps[0]).toMatchObject({ id: 'gate', status: 'completed' });
  });

  it('turns a killed daimon stale in the fleet view', async () => {
    const daimon = await startDaimon('e2e-con2');
    const tty = await openConsole();
    await tty.waitForScreen('e2e-con2 online', (s) => /●\s+online\s+e2e-con2/.test(s));
    await stop(daimon, 'SIGKILL');
    const screen = await tty.waitForScreen('e2e-con2 stale', (s) => /◐\s+stale\s+e2e-con2/.test(s));
    expect(lineWith(screen, HOST)).toMatch(/●\s+online/);
    expect(screen).toMatch(/◐ 1 stale/);
  });
});
