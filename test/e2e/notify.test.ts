import { afterEach, describe, expect, it } from 'vitest';
import type { HostView } from '../../src/protocol/api.js';
import type { ChannelView } from '../../src/protocol/notify-api.js';
import { WebhookReceiver } from '../cp/notify/webhook-receiver.js';
import { okesuJson, runOkesu, spawnOkesu, startCp, stop, tempDir, waitFor, TEST_AGENTS, type OkesuProcess } from './harness.js';

const SECRET = 'e2e-webhook-secret-0123456789';
const procs: OkesuProcess[] = [];
const track = (p: OkesuProcess): OkesuProcess => (procs.push(p), p);
let rx: WebhookReceiver | undefined;
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGKILL')));
  await rx?.stop();
});

describe('alert delivery with the real binary', () => {
  it('HIGH and CRITICAL findings reach a verifying webhook receiver exactly once across kill -9 of the CP while it was down', async () => {
    rx = new WebhookReceiver(SECRET);
    await rx.start();
    const dir = tempDir('cp');
    let cp = await startCp(dir, 0, ['--heartbeat-interval', '500ms']);
    track(cp.proc);
    const add = await runOkesu(['notify', 'add', 'webhook', 'pager', '--url', rx.url, '--secret-env', 'HOOK_SECRET'], { ...cp.env, HOOK_SECRET: SECRET });
    expect(add.code, add.stderr).toBe(0);

    const token = (await runOkesu(['token', 'create', '--join'], cp.env)).stdout.trim();
    track(spawnOkesu(['daemon', '--cp', cp.url, '--token', token, '--state', tempDir('daimon'), '--hostname', 'e2e-n', '--agents', TEST_AGENTS]));
    await waitFor('e2e-n online', async () => (await okesuJson<HostView[]>(['hosts'], cp.env)).some((h) => h.hostname === 'e2e-n' && h.connected));

    // The receiver is down while the findings arrive; then the CP dies without a chance to clean up.
    await rx.stop();
    const run = await runOkesu(['run', 'emit-findings', '--host', 'e2e-n', '--wait'], cp.env);
    expect(run.code, run.stderr).toBe(0);
    await waitFor('two deliveries enqueued', async () => (await okesuJson<ChannelView[]>(['notify', 'list', '--json'], cp.env))[0]?.counts.pending === 2);
    cp.proc.kill('SIGKILL');
    await cp.proc.exited;

    await rx.start();
    cp = await startCp(dir, cp.port, ['--heartbeat-interval', '500ms']);
    track(cp.proc);
    // The first retry is due within 10 s of the failed attempt (the default backoff).
    await waitFor('both delivered', () => rx?.delivered().length === 2, 30_000);
    await waitFor('nothing pending', async () => (await okesuJson<ChannelView[]>(['notify', 'list', '--json'], cp.env))[0]?.counts.pending === 0);
    const severities = rx.delivered().map((r) => (r.body['finding'] as { title: string; severity: string }).severity).sort();
    expect(severities).toEqual(['CRITICAL', 'HIGH']);
    expect(rx.received.every((r) => r.verified)).toBe(true);
    expect(new Set(rx.delivered().map((r) => r.delivery)).size).toBe(2);

    const log = await runOkesu(['notify', 'deliveries', 'pager'], cp.env);
    expect(log.code, log.stderr).toBe(0);
    expect(log.stdout.split('\n').filter((l) => / delivered /.test(l))).toHaveLength(2);
  }, 90_000);
});
