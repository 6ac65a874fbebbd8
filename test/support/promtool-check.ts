import { spawnSync } from 'node:child_process';

/** Debian's promtool (scripts/install-test-deps.sh installs prometheus). */
export const PROMTOOL = '/usr/bin/promtool';

/**
 * prom-client's own default metrics that promtool's linter flags (gauges named `_total`): not ours to rename, so the
 * only lint problems `checkMetricsText` lets pass.
 */
const PROM_CLIENT_LINT = new Set(['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']);

/** What `promtool check metrics` said about a scrape. */
export interface MetricsCheck {
  /** promtool's exit code: 0 clean, 3 lint problems, 1 unparsable. */
  code: number | null;
  /** Lint or parse problems, one per line, less prom-client's own (see above). */
  problems: string[];
}

/** Runs `promtool check metrics` over `text` (stdin). A clean scrape has code 0 or 3 and no problems. */
export function checkMetricsText(text: string): MetricsCheck {
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return { code: r.status, problems: lines.filter((l) => !PROM_CLIENT_LINT.has(l.split(' ')[0] ?? '')) };
}

/** Promtool's command line, run to completion: exit code and both outputs. */
export function promtool(args: string[], cwd?: string): { code: number | null; output: string } {
  const r = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

/** One sample of a Prometheus text exposition: its value, found by metric name and exact labels (in any order). */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) found[pair[1] as string] = (pair[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const want = Object.entries(labels);
    if (want.length === Object.keys(found).length && want.every(([k, v]) => found[k] === v)) return Number(m[3]);
  }
  return undefined;
}
