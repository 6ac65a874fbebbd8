import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inputsToEnv } from '../../daimon/collectors/input-env.js';
import type { AgentSpec, CollectorSpec } from '../../src/specs/agent-spec.js';
import { formatSpecError, parseAgent } from '../../src/specs/parse-agent.js';
import { resolveInputs } from '../../src/specs/resolve-inputs.js';
import type { RuleSpec } from '../../src/specs/rule-spec.js';
import { waitFor } from '../daimon/run-helpers.js';

/** The repository's built-in agent directory. */
export const AGENTS_DIR = join(import.meta.dirname, '..', '..', 'agents');
/** The bundled CLI (`npm run build`), as the e2e tests run it. */
export const OKESU_BIN = join(import.meta.dirname, '..', '..', 'dist', 'okesu.js');

/** Parses `agents/NAME.md`, failing loudly with every spec error. */
export function loadBuiltin(name: string): AgentSpec {
  const source = join(AGENTS_DIR, `${name}.md`);
  const r = parseAgent(readFileSync(source, 'utf8'), source);
  if (!r.ok) throw new Error(r.errors.map(formatSpecError).join('\n'));
  return r.agent;
}

/** The collector `name` of `agent`. */
export function collectorOf(agent: AgentSpec, name: string): CollectorSpec {
  const c = agent.collectors.find((x) => x.name === name);
  if (!c) throw new Error(`${agent.name} has no collector ${name}`);
  return c;
}

/** The rule `name` of `agent`. */
export function ruleOf(agent: AgentSpec, name: string): RuleSpec {
  const r = agent.rules.find((x) => x.name === name);
  if (!r) throw new Error(`${agent.name} has no rule ${name}`);
  return r;
}

/** Input values as `--input` and dispatches give them. */
export type Inputs = Record<string, string | number | boolean | string[]>;

/** The collector environment of a run: the agent's inputs resolved over `given`, as `OKESU_INPUT_*` variables. */
export function inputEnv(agent: AgentSpec, given: Inputs = {}): Record<string, string> {
  const r = resolveInputs(agent, given);
  if (!r.ok) throw new Error(r.error);
  return inputsToEnv(r.inputs);
}

/** What one collector run printed and how it exited. */
export interface CollectorRun {
  code: number | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

/**
 * Runs one collector's command under `sh -c` as the daimon does (inputs only in the environment, its own timeout),
 * asynchronously, so servers the test hosts in this process keep answering.
 */
export async function runCollector(agent: AgentSpec, name: string, given: Inputs = {}, env: NodeJS.ProcessEnv = process.env): Promise<CollectorRun> {
  const c = collectorOf(agent, name);
  const r = await run('/bin/sh', ['-c', c.command], { ...env, ...inputEnv(agent, given) }, c.timeoutMs);
  return { ...r, lines: r.stdout.split('\n').filter((l) => l !== '') };
}

/** The named captures (plus `line`) of every line `rule`'s expression matches; thresholds and novelty are not applied. */
export function ruleMatches(rule: RuleSpec, lines: string[]): Record<string, string>[] {
  const re = new RegExp(rule.match, rule.flags);
  return lines.flatMap((line) => {
    const m = re.exec(line);
    return m ? [{ ...(m.groups as Record<string, string> | undefined), line }] : [];
  });
}

/** One JSON event line printed by `okesu agents run --json`. */
export type CliEvent = Record<string, unknown> & { type: string };

/** The events of one local run and how the CLI exited. */
export interface CliRun {
  code: number | null;
  stderr: string;
  events: CliEvent[];
  findings: CliEvent[];
  collector: (name: string) => CliEvent | undefined;
}

/**
 * `okesu agents run NAME --local --json` with the given inputs, state dir and an empty host policy, in an environment
 * without model API keys (so the run reports `api_unavailable` and only the rules' findings).
 */
export async function runAgentCli(name: string, given: Inputs, stateDir: string, policyFile: string): Promise<CliRun> {
  if (!existsSync(OKESU_BIN)) throw new Error(`${OKESU_BIN} is missing: run npm run build first`);
  const args = [OKESU_BIN, 'agents', 'run', name, '--local', '--json', '--state-dir', stateDir, '--policy', policyFile];
  // Lists go as JSON arrays (the CLI parses a JSON value), so a one-item list of digits stays a list.
  for (const [k, v] of Object.entries(given)) args.push('--input', `${k}=${Array.isArray(v) ? JSON.stringify(v) : String(v)}`);
  const env: NodeJS.ProcessEnv = { ...process.env, OKESU_LOG_LEVEL: 'warn' };
  delete env.ANTHROPIC_API_KEY;
  delete env.OPENAI_API_KEY;
  const r = await run(process.execPath, args, env, 120_000);
  const events = r.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as CliEvent);
  return {
    code: r.code,
    stderr: r.stderr,
    events,
    findings: events.filter((e) => e.type === 'finding'),
    collector: (c) => events.find((e) => e.type === 'collector_result' && e.name === c),
  };
}

/** A temp directory (its realpath, so it compares with /proc paths) and an empty host policy file in it. */
export function sandbox(prefix = 'okesu-agents-'): { dir: string; policy: string; cleanup: () => void } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, '', { mode: 0o600 });
  return { dir, policy, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** True when `tool` is on this machine's PATH. */
export function hasTool(tool: string): boolean {
  return spawnSync('/bin/sh', ['-c', 'command -v "$1"', 'sh', tool], { stdio: 'ignore' }).status === 0;
}

/**
 * A PATH directory holding links to the given tools only, so a collector runs as on a host where the others
 * (ss, journalctl, openssl…) are missing; `fakes` are small scripts standing in for a tool.
 */
export function restrictedPath(dir: string, tools: string[], fakes: Record<string, string> = {}): string {
  const bin = join(dir, `bin-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(bin, { recursive: true });
  for (const tool of tools) {
    const where = spawnSync('/bin/sh', ['-c', 'command -v "$1"', 'sh', tool], { encoding: 'utf8' }).stdout.trim();
    if (where.startsWith('/')) symlinkSync(where, join(bin, tool));
  }
  for (const [tool, script] of Object.entries(fakes)) writeFileSync(join(bin, tool), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return bin;
}

/** The tools the collectors need from a base system (coreutils, findutils, awk, grep, sed), without the optional ones. */
export const BASE_TOOLS = ['awk', 'cat', 'cut', 'date', 'find', 'grep', 'head', 'sed', 'sort', 'tail', 'tr', 'sha256sum', 'readlink', 'timeout', 'df', 'nproc', 'id', 'uname', 'rm'];

/** A running copy of /bin/sleep started from `dir` as `name`; `deleteFile` removes the binary while it runs. */
export async function startSleeper(dir: string, name = 'sleeper', deleteFile = false): Promise<{ child: ChildProcess; exe: string; pid: number }> {
  mkdirSync(dir, { recursive: true });
  const exe = join(dir, name);
  copyFileSync(realpathSync('/bin/sleep'), exe);
  chmodSync(exe, 0o755);
  const child = spawn(exe, ['600'], { stdio: 'ignore' });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${exe}`);
  // The exec has happened once /proc/PID/exe points at the copy (before, it is still node's fork).
  await waitFor(() => readlinkOrEmpty(`/proc/${pid}/exe`).startsWith(exe), 10_000, `${exe} to start`);
  if (deleteFile) unlinkSync(exe);
  return { child, exe, pid };
}

/** Stops a child and waits for it to exit. */
export async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

function readlinkOrEmpty(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

/** Runs a child to its end (killed after `timeoutMs`), collecting stdout and stderr. */
function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
