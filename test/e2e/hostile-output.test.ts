import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HostView } from '../../src/protocol/api.js';
import type { StoredFinding } from '../../src/protocol/finding.js';
import { expectTerminalSafe } from '../cli/hostile-text.js';
import { OKESU, okesuJson, runOkesu, spawnOkesu, startCp, stop, tempDir, waitFor, type OkesuProcess } from './harness.js';

// A custom agent on a real daimon writes raw bytes — escape sequences, invalid UTF-8, C1 and bidi in UTF-8 — and the
// real binary's human output carries none of them to the terminal, byte for byte.

const AGENT = [
  '---',
  'name: hostile-bytes',
  'version: 1.0.0',
  'description: Test agent — writes raw control bytes and invalid UTF-8.',
  'provider: custom',
  'timeout: 30s',
  'command: |',
  // Inside a JSON string: invalid UTF-8 (0xff 0xfe, a lone 0x9b), an 8-bit CSI and a bidi override in UTF-8.
  `  printf '{"type":"finding","severity":"high","category":"process","title":"bad \\377\\376 \\233 bytes \\302\\233 c1 \\342\\200\\256 bidi","resource":"r"}\\n'`,
  // A non-JSON line (a text event) with raw ESC, BEL, BS and invalid UTF-8.
  "  printf 'raw \\033]0;pwned\\007 \\033[2J \\010 \\377 end\\n'",
  "  printf '{\"type\":\"error\",\"message\":\"boom \\302\\233 \\342\\200\\256\"}\\n'",
  // Stderr with escapes too, and a failure: the run's error carries the agent's last words.
  "  printf 'dying \\033[2J\\n' >&2; exit 3",
  '---',
  'Hostile.',
  '',
].join('\n');

/** Runs the bundled binary and keeps stdout as bytes. */
function runBytes(args: string[], env: NodeJS.ProcessEnv, until?: (out: Buffer) => boolean): Promise<{ code: number | null; stdout: Buffer; stderr: Buffer }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [OKESU, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      if (until?.(Buffer.concat(out))) child.kill('SIGINT');
    });
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
  });
}

/** No byte a terminal acts on: valid UTF-8 (so no lone 0x80–0x9f byte), and its text free of controls, C1 and bidi. */
function expectSafeBytes(bytes: Buffer, what: string, opts: { tab?: boolean } = {}): void {
  const text = bytes.toString('utf8');
  expect(Buffer.from(text, 'utf8').equals(bytes), `${what}: valid UTF-8`).toBe(true);
  expectTerminalSafe(text, what, opts);
}

const procs: OkesuProcess[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => stop(p, 'SIGKILL')));
});

describe('raw bytes from a custom agent, end to end', () => {
  it('reach `run --wait`, `findings`, `tail` and `runs` only as visible escapes; --json keeps the decoded text', async () => {
    const cp = await startCp(tempDir('cp'));
    procs.push(cp.proc);
    const agents = join(tempDir('agents'), 'agents');
    mkdirSync(agents);
    writeFileSync(join(agents, 'hostile-bytes.md'), AGENT);
    const token = (await runOkesu(['token', 'create', '--join'], cp.env)).stdout.trim();
    procs.push(spawnOkesu(['daemon', '--cp', cp.url, '--token', token, '--state', tempDir('daimon'), '--hostname', 'e2e-h', '--agents', agents, '--log-level', 'warn']));
    await waitFor('e2e-h online', async () => (await okesuJson<HostView[]>(['hosts'], cp.env)).some((h) => h.hostname === 'e2e-h' && h.connected));

    const run = await runBytes(['run', 'hostile-bytes', '--host', 'e2e-h', '--wait'], cp.env);
    expect(run.code, run.stderr.toString()).toBe(3);
    expectSafeBytes(run.stdout, 'stdout of run --wait');
    expectSafeBytes(run.stderr, 'stderr of run --wait', { tab: true });
    expect(run.stdout.toString()).toContain('raw \\x1b]0;pwned\\x07 \\x1b[2J \\x08 \uFFFD end');
    expect(run.stdout.toString()).toContain('bad \uFFFD\uFFFD \uFFFD bytes \\x9b c1 \\u202e bidi');

    for (const args of [['findings'], ['runs'], ['hosts']]) expectSafeBytes((await runBytes(args, cp.env)).stdout, `stdout of ${args.join(' ')}`);
    const tail = await runBytes(['tail', '--since', '1h'], cp.env, (out) => out.includes('bidi'));
    expectSafeBytes(tail.stdout, 'stdout of tail');

    const json = await runBytes(['findings', '--json'], cp.env);
    expectSafeBytes(json.stdout, 'stdout of findings --json');
    const [finding] = JSON.parse(json.stdout.toString()) as StoredFinding[];
    expect(finding?.title).toBe('bad \uFFFD\uFFFD \uFFFD bytes \u009b c1 \u202e bidi');
  }, 90_000);
});
