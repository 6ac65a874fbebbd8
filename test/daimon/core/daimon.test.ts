import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../../src/protocol/ids.js';
import { createDaimon } from '../../../daimon/daimon.js';
import type { Daimon, DaimonOptions } from '../../../daimon/daimon.js';
import { INTERRUPTED_MESSAGE, RECOVERY_SEQ_BASE } from '../../../daimon/run-registry.js';
import { startFakeCp } from './fake-cp.js';
import type { FakeCp, FakeTunnel, Frame } from './fake-cp.js';
import { captureLogger, tempDir, waitFor } from './helpers.js';

let cp: FakeCp;
const running: Daimon[] = [];

beforeAll(async () => {
  cp = await startFakeCp();
});
afterAll(async () => {
  await cp.close();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
  cp.tunnels.length = 0;
  cp.heartbeatMs = 50;
});

async function start(over: Partial<DaimonOptions> & { stateDir: string }, logs = captureLogger()): Promise<Daimon> {
  const d = createDaimon(
    { cp: cp.url, hostname: 'unit-host', builtinAgents: false, version: '1.0.0', tunnel: { backoffBaseMs: 20, backoffCapMs: 100 }, ...over },
    { log: logs.log },
  );
  running.push(d);
  await d.start();
  return d;
}
const tunnel = async (): Promise<FakeTunnel> => {
  await waitFor(() => cp.tunnels.some((t) => !t.closed && t.frames.length > 0), 10_000, 'a tunnel');
  return cp.tunnels.find((t) => !t.closed) as FakeTunnel;
};
const allFrames = (type: string): Frame[] => cp.tunnels.flatMap((t) => t.frames.filter((f) => f.type === type));
const records = (): { run_id: string; seq: number; event: Record<string, unknown> }[] =>
  allFrames('events').flatMap((f) => f.records as { run_id: string; seq: number; event: Record<string, unknown> }[]);
const agent = (name: string, script: string): string => `---\nname: ${name}\ncommand: ${JSON.stringify(['node', '-e', script])}\n---\n`;

describe('daimon core (fake CP)', () => {
  it('runs a repeated dispatch once, answering both', async () => {
    cp.ackEvents = true;
    // The answers must come on the tunnel the dispatches came on: a 50 ms heartbeat let a loaded machine's pause (a
    // child starting) trip the daimon's 3-interval watchdog and drop that tunnel with the second answer unsent.
    cp.heartbeatMs = 2000;
    await start({ stateDir: tempDir('dup'), token: cp.joinToken() });
    const t = await tunnel();
    const runId = newId('r');
    const envelope = { run_id: runId, agent: 'once', definition: agent('once', 'console.log("{\\"type\\":\\"text\\",\\"text\\":\\"hi\\"}")') };
    t.send({ type: 'dispatch', envelope });
    t.send({ type: 'dispatch', envelope });
    await waitFor(() => records().some((r) => r.event.type === 'run_end'), 10_000, 'run_end');
    // The two answers and the run's events share one socket but not one moment: wait for both answers.
    await waitFor(() => allFrames('dispatch_ack').length >= 2, 10_000, 'both dispatch answers');
    expect(allFrames('dispatch_ack')).toEqual([
      { type: 'dispatch_ack', run_id: runId, accepted: true },
      { type: 'dispatch_ack', run_id: runId, accepted: true },
    ]);
    expect(records().filter((r) => r.event.type === 'run_start')).toHaveLength(1);
    expect(records().map((r) => r.seq)).toEqual([1, 2, 3]);
  });

  it('stops within its grace while a run is stuck on a full spool, and the next start ends that run', async () => {
    cp.ackEvents = false;
    const stateDir = tempDir('stuck');
    const logs = captureLogger();
    const d = await start({ stateDir, token: cp.joinToken(), spoolMaxRecords: 3, stopGraceMs: 200 }, logs);
    const t = await tunnel();
    const runId = newId('r');
    t.send({ type: 'dispatch', envelope: { run_id: runId, agent: 'chatty', definition: agent('chatty', 'for (let i = 0; i < 50; i++) console.log("line " + i)') } });
    await waitFor(() => records().length >= 3, 10_000, 'the spool filling');
    await waitFor(() => logs.lines().some((l) => l.msg === 'event spool full: runs pause until the CP acknowledges'), 10_000, 'the spool-full warning');
    expect(existsSync(join(stateDir, 'runs', `${runId}.json`))).toBe(true);
    await d.stop();
    running.splice(running.indexOf(d), 1);
    expect(existsSync(join(stateDir, 'runs', `${runId}.json`))).toBe(true);

    cp.ackEvents = true;
    await start({ stateDir, spoolMaxRecords: 3 });
    await waitFor(() => records().some((r) => r.seq === RECOVERY_SEQ_BASE + 1), 10_000, 'the recovery run_end');
    const end = records().find((r) => r.seq === RECOVERY_SEQ_BASE + 1);
    expect(end?.event).toMatchObject({ type: 'run_end', status: 'failed', error: INTERRUPTED_MESSAGE, run_id: runId, agent: 'chatty' });
    await waitFor(() => !existsSync(join(stateDir, 'runs', `${runId}.json`)), 10_000, 'the marker deleted');
  });
});
