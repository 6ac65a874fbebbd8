import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exited, freePort, spawnServer, waitForPort } from './child-servers.js';

/** Debian's Prometheus (scripts/install-test-deps.sh installs it; promtool's helpers are in promtool-check.ts). */
export const PROMETHEUS = '/usr/bin/prometheus';

/** A Prometheus child process on 127.0.0.1 with a config and storage of its own in a temp dir. */
export interface TestPrometheus {
  readonly url: string;
  /** Runs an instant PromQL query; the result vector (metric labels and value). */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: number }>>;
  /** The rules of the rule files it loaded, with their health (`ok`, `err`, `unknown`) and last error. */
  rules(): Promise<Array<{ name: string; health: string; lastError?: string }>>;
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
  const { child, output } = await spawnServer(PROMETHEUS, [
    `--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
  ]);
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM');
    await exited(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, output, { timeoutMs: 15_000 });
  } catch (err) {
    await stop();
    throw err;
  }
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}/api/v1/${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? res.status}`);
    return body.data;
  };
  return {
    url,
    log: output,
    query: async (promql) => (await api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(`query?query=${encodeURIComponent(promql)}`))
      .result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) })),
    rules: async () => (await api<{ groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> }>('rules')).groups.flatMap((g) => g.rules),
    stop,
  };
}
