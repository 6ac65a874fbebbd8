import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exited, freePort, killWithParent, waitForPort } from '../../support/child-servers.js';

/** Debian's Prometheus and promtool (scripts/install-test-deps.sh installs them). */
export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

/** A Prometheus child process on 127.0.0.1 with a config and storage of its own in a temp dir. */
export interface TestPrometheus {
  readonly url: string;
  /** Runs an instant PromQL query; the result vector (metric labels and value). */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: number }>>;
  /** Prometheus's output so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts `prometheus` with `config` (YAML text; files it names can be written into `dir` first by `files`) on a free
 * port — Prometheus takes no port 0, so one is picked first; resolves once it answers.
 */
export async function startPrometheus(config: (dir: string) => string): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'okesu-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, config(dir), { mode: 0o600 });
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(PROMETHEUS, [
    `--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer): void => {
    output = (output + d.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  killWithParent(child);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) => reject(new Error(`cannot run ${PROMETHEUS} (scripts/install-test-deps.sh installs it): ${err.message}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM');
    await exited(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, () => output, { timeoutMs: 15_000 });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    log: () => output,
    async query(promql) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await res.json()) as { status: string; error?: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      if (body.status !== 'success') throw new Error(`query ${promql}: ${body.error ?? res.status}`);
      return (body.data?.result ?? []).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    stop,
  };
}

/** `promtool check metrics` over an exposition (on stdin): its exit code and what it printed. */
export function promtoolCheckMetrics(text: string): { code: number | null; output: string } {
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run ${PROMTOOL}: ${r.error.message}`);
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}
