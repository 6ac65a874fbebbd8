import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventBody } from '../../src/protocol/event.js';
import { LIMITS } from '../../src/protocol/limits.js';
import type { AgentSpec } from '../../src/specs/agent-spec.js';
import { createCustomProvider } from '../../daimon/providers/custom-provider.js';
import type { Logger, ProviderOutcome, RunContext } from '../../daimon/provider.js';
import { customAgent, fixture, isGone, memoryLogger, recorder, waitFor } from './run-helpers.js';

const RUN_ID = 'r_01JD0000000000000000000000';

function context(agent: AgentSpec, signal: AbortSignal = new AbortController().signal, log: Logger = memoryLogger()): RunContext {
  return { runId: RUN_ID, hostname: 'web-1', agent, prompt: 'check the disk', inputs: { path: '/var' }, signal, log };
}

async function run(command: string | string[], opts: { signal?: AbortSignal; killGraceMs?: number } = {}) {
  const { events, emit } = recorder();
  const outcome = await createCustomProvider({ killGraceMs: opts.killGraceMs }).run(context(customAgent(command), opts.signal), emit);
  return { events, outcome };
}

describe('custom provider: command forms', () => {
  it('runs an argv list directly, without a shell', async () => {
    const { events, outcome } = await run(['printf', '%s|%s\n', '$HOME', 'a b']);
    expect(outcome).toEqual({ status: 'completed' });
    expect(events).toEqual([{ type: 'text', text: '$HOME|a b' }]);
  });

  it('runs a string under sh -c', async () => {
    const { events, outcome } = await run('echo "$((2 + 3))" | tr 5 6');
    expect(outcome).toEqual({ status: 'completed' });
    expect(events).toEqual([{ type: 'text', text: '6' }]);
  });

  it('fails clearly when the executable does not exist', async () => {
    const { events, outcome } = await run(['/nonexistent/okesu-agent']);
    expect(events).toEqual([]);
    expect(outcome).toEqual({ status: 'failed', error: 'cannot start "/nonexistent/okesu-agent": no such file (ENOENT)' });
  });

  it('says "command not found" when the shell cannot find it', async () => {
    const { outcome } = await run('okesu-no-such-command-xyz');
    expect(outcome).toEqual({ status: 'failed', error: 'exit code 127 (command not found)' });
  });
});

describe('custom provider: events', () => {
  it('relays stdout events in order, turns bad ones into errors, and keeps text and stderr', async () => {
    const { events, outcome } = await run(['node', fixture('events.mjs')]);
    expect(outcome).toEqual({ status: 'completed' });
    const stdout = events.filter((e) => e.stream !== 'stderr');
    expect(stdout).toEqual([
      { type: 'text', text: 'hello' },
      { type: 'text', text: 'not json at all' },
      { type: 'finding', severity: 'high', title: 'Listener on 4444', category: 'network' },
      expect.objectContaining({ type: 'error', code: 'OKS_ERR_EVENT_INVALID', raw: '{"type":"finding","severity":"SEVERE","title":"bad severity"}' }),
      { type: 'provider_run_start', agent: 'spoof' },
      { type: 'provider_run_end', status: 'completed' },
      { type: 'custom_thing', a: 1 },
      expect.objectContaining({ type: 'error', code: 'OKS_ERR_EVENT_INVALID', message: expect.stringMatching(/^stdout line 9: type: /) }),
      { type: 'text', text: '[1, 2, 3]' },
    ]);
    expect(stdout[3]?.message).toMatch(/^stdout line 5: severity: expected one of CRITICAL, HIGH, MEDIUM, LOW, INFO/);
    expect(events.filter((e) => e.stream === 'stderr')).toEqual([{ type: 'text', stream: 'stderr', text: 'warning: something odd' }]);
  });

  it('writes the run as one JSON object on stdin', async () => {
    const { events } = await run(['node', fixture('echo-stdin.mjs'), 'x']);
    expect(events).toEqual([{
      type: 'stdin_echo',
      received: { run_id: RUN_ID, host: 'web-1', agent: { name: 'probe', version: '1.2.3' }, prompt: 'check the disk', inputs: { path: '/var' }, collectors: [] },
      env: { OKESU_RUN_ID: RUN_ID, OKESU_HOST: 'web-1', OKESU_AGENT: 'probe' },
      argv: ['x'],
    }]);
  });

  it('does not fail when the executable ignores stdin', async () => {
    const { outcome } = await run('exit 0');
    expect(outcome.status).toBe('completed');
  });

  it('cuts a 1 MB line at the cap and marks it truncated, then reads on', async () => {
    const { events, outcome } = await run(['node', fixture('big-line.mjs')]);
    expect(outcome.status).toBe('completed');
    // stdout and stderr are read concurrently: order is kept within a stream, not across them.
    const [big, after] = events.filter((e) => e.stream !== 'stderr') as [EventBody, EventBody];
    const [err] = events.filter((e) => e.stream === 'stderr') as [EventBody];
    expect(events).toHaveLength(3);
    expect(big).toMatchObject({ type: 'text', truncated: true });
    expect(String(big.text)).toHaveLength(LIMITS.providerLineBytes);
    expect(after).toEqual({ type: 'after', ok: true });
    expect(err).toMatchObject({ type: 'text', stream: 'stderr', truncated: true });
    expect(String(err.text)).toHaveLength(LIMITS.providerLineBytes);
  });
});

describe('custom provider: exit and signals', () => {
  it('fails with the exit code', async () => {
    const { outcome } = await run(['node', fixture('events.mjs'), '3']);
    expect(outcome).toEqual({ status: 'failed', error: 'exit code 3' });
  });

  it('stops the whole process group on abort', async () => {
    const abort = new AbortController();
    const { events, emit } = recorder();
    const running = createCustomProvider().run(context(customAgent(['sh', fixture('grandchild.sh')]), abort.signal), emit);
    await waitFor(() => events.length > 0, 10_000, 'the grandchild pid');
    const pid = Number(events[0]?.pid);
    expect(isGone(pid)).toBe(false);
    abort.abort();
    expect(await running).toEqual({ status: 'failed', error: 'killed by SIGTERM' });
    await waitFor(() => isGone(pid), 10_000, `grandchild ${pid} to be gone`);
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const abort = new AbortController();
    const { events, emit } = recorder();
    const running = createCustomProvider({ killGraceMs: 200 }).run(context(customAgent(['sh', fixture('ignore-term.sh')]), abort.signal), emit);
    await waitFor(() => events.length > 0, 10_000, 'ready');
    abort.abort();
    expect(await running).toEqual({ status: 'failed', error: 'killed by SIGKILL' });
  });

  it('stops what the executable left behind when it exits', async () => {
    const log = memoryLogger();
    const { events, emit } = recorder();
    const outcome = await createCustomProvider().run(context(customAgent(['sh', fixture('leave-behind.sh')]), undefined, log), emit);
    expect(outcome).toEqual({ status: 'completed' });
    const pid = Number(events[0]?.pid);
    await waitFor(() => isGone(pid), 10_000, `grandchild ${pid} to be gone`);
    expect(log.lines.some((l) => l.level === 'warn' && /left processes behind/.test(l.msg ?? ''))).toBe(true);
  });

  it('does not start when already aborted', async () => {
    const abort = new AbortController();
    abort.abort();
    expect((await run(['true'], { signal: abort.signal })).outcome).toEqual({ status: 'failed', error: 'aborted before start' });
  });

  it('fails the run when events cannot be recorded', async () => {
    const emit = async (): Promise<void> => {
      throw new Error('spool is broken');
    };
    const outcome = await createCustomProvider().run(context(customAgent(['sh', fixture('flood.sh'), '5000', '/dev/null'])), emit);
    expect(outcome).toEqual({ status: 'failed', error: 'cannot record events: spool is broken' });
  });

  it('accepts a pino logger', async () => {
    const log = pino({ level: 'silent' });
    const outcome: ProviderOutcome = await createCustomProvider().run(context(customAgent(['true']), undefined, log), recorder().emit);
    expect(outcome.status).toBe('completed');
  });
});

describe('custom provider: backpressure', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'okesu-flood-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stops reading while emit is pending, so the child blocks, and loses nothing after release', async () => {
    const total = 2000;
    const progressFile = join(dir, 'progress');
    const progress = async (): Promise<number> => Number(await readFile(progressFile, 'utf8').catch(() => '0'));
    const events: EventBody[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let blocking = true;
    const emit = async (body: EventBody): Promise<void> => {
      events.push(body);
      if (blocking) await gate;
    };
    const running = createCustomProvider().run(context(customAgent(['sh', fixture('flood.sh'), String(total), progressFile])), emit);

    // Wait until the child stops making progress: it is blocked writing into a full pipe.
    let last = -1;
    let stableSince = Date.now();
    await waitFor(() => {
      void progress().then((n) => {
        if (n !== last) [last, stableSince] = [n, Date.now()];
      });
      return last > 0 && Date.now() - stableSince > 500;
    }, 20_000, 'the child to block');
    expect(events).toHaveLength(1);
    expect(last).toBeLessThan(total / 2);

    blocking = false;
    release();
    expect(await running).toEqual({ status: 'completed' });
    expect(events).toHaveLength(total);
    expect(events.map((e) => e.text)).toEqual(Array.from({ length: total }, (_, i) => `line ${i}`));
  });
});
