import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { tempDir } from '../e2e/harness.js';
import { CP_METRICS, DAIMON_METRICS, KNOWN_METRICS } from '../support/okesu-metric-names.js';
import { promtool } from '../support/promtool-check.js';

const DIR = join(import.meta.dirname, '..', '..', 'examples', 'monitoring');

interface Target { expr?: string }
interface Panel { id: number; type: string; title: string; gridPos: { x: number; y: number; w: number; h: number }; targets?: Target[]; panels?: Panel[] }
interface Dashboard { uid: string; title: string; panels: Panel[]; templating: { list: { name: string; type: string; query?: string | { query: string } }[] } }
interface RuleFile { groups: { name: string; rules: { alert?: string; expr: string }[] }[] }

const dashboard = JSON.parse(readFileSync(join(DIR, 'grafana-dashboard.json'), 'utf8')) as Dashboard;
const alerts = parseYaml(readFileSync(join(DIR, 'okesu-alerts.yml'), 'utf8')) as RuleFile;

/** Every query panel, rows' children included. */
const queryPanels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
const dashboardExprs = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })));
const alertExprs = alerts.groups.flatMap((g) => g.rules.map((r) => ({ alert: r.alert ?? '', expr: r.expr })));
/** Metrics the dashboard's variables read (`label_values(METRIC, label)`). */
const variableMetrics = dashboard.templating.list.flatMap((v) => {
  const q = typeof v.query === 'string' ? v.query : v.query?.query ?? '';
  const m = /^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,/.exec(q);
  return m ? [m[1] as string] : [];
});

/** Grafana's variables replaced by what they stand for, so the query is plain PromQL. */
const plainPromql = (expr: string): string => expr.replace(/\$__rate_interval/g, '5m').replace(/\$(cp|daimon)\b/g, '.*');

const PROMQL_WORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);
/** The metric names a PromQL expression selects (strings, matchers, ranges, grouping clauses and calls left out). */
function metricNames(expr: string): string[] {
  const bare = plainPromql(expr)
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+\w+/g, ' ');
  return [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)].filter((m) => m[2] === undefined && !PROMQL_WORDS.has(m[1] as string)).map((m) => m[1] as string);
}

/** A used name's family: a histogram's `_bucket`, `_sum` and `_count` series belong to it. */
function family(name: string): string | undefined {
  if (KNOWN_METRICS[name] !== undefined) return name;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  return m && KNOWN_METRICS[m[1] as string] === 'histogram' ? (m[1] as string) : undefined;
}

describe('examples/monitoring', () => {
  it('the alert rules pass promtool check rules', () => {
    const r = promtool(['check', 'rules', join(DIR, 'okesu-alerts.yml')]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('the alert rules pass their unit tests (promtool test rules): each fires on its series, silent on the look-alikes', () => {
    const r = promtool(['test', 'rules', 'okesu-alerts.test.yml'], DIR);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/SUCCESS/);
  });

  it('prometheus.yml passes promtool check config, its rule file found beside it', () => {
    // The HTTPS job's token and CA files, which the README has the operator put in okesu/ beside the config.
    const dir = join(tempDir('monitoring'), 'prometheus');
    cpSync(DIR, dir, { recursive: true });
    mkdirSync(join(dir, 'okesu'));
    writeFileSync(join(dir, 'okesu', 'viewer.token'), 'oko_placeholder\n', { mode: 0o600 });
    writeFileSync(join(dir, 'okesu', 'ca.crt'), '');
    const r = promtool(['check', 'config', join(dir, 'prometheus.yml')]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/SUCCESS: 1 rule files found/);
    expect(r.output).toMatch(new RegExp(`SUCCESS: ${alertExprs.length} rules found`));
  });

  it('the dashboard is a Grafana dashboard: panels with unique ids inside 24 columns, each querying Prometheus', () => {
    expect(dashboard.uid).toBe('okesu-fleet');
    const ids = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of queryPanels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      expect(p.targets?.length ?? 0, p.title).toBeGreaterThan(0);
    }
    expect(dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title)).toEqual(expect.arrayContaining(['Fleet', 'Ingest', 'Runs', 'Auth and store', 'Daimons']));
  });

  it('every dashboard query is valid PromQL (promtool parses them as recording rules)', () => {
    const rules = { groups: [{ name: 'dashboard', rules: dashboardExprs.map((e, i) => ({ record: `okesu_dashboard:query_${i}`, expr: plainPromql(e.expr) })) }] };
    const file = join(tempDir('dashboard-promql'), 'dashboard-rules.yml');
    writeFileSync(file, JSON.stringify(rules));
    const r = promtool(['check', 'rules', file]);
    expect(r.code, r.output).toBe(0);
  });

  it('every metric a query or an alert uses is one the CP or the daimon exports', () => {
    const used = [
      ...dashboardExprs.flatMap((e) => metricNames(e.expr).map((name) => ({ where: `panel "${e.panel}"`, name }))),
      ...alertExprs.flatMap((e) => metricNames(e.expr).map((name) => ({ where: `alert ${e.alert}`, name }))),
      ...variableMetrics.map((name) => ({ where: 'a dashboard variable', name })),
    ];
    expect(used.length).toBeGreaterThan(50);
    expect(used.filter((u) => family(u.name) === undefined).map((u) => `${u.where}: ${u.name}`)).toEqual([]);
    const families = new Set(used.map((u) => family(u.name)));
    // The dashboard shows every Okesu metric.
    expect(Object.keys({ ...CP_METRICS, ...DAIMON_METRICS }).filter((m) => !families.has(m))).toEqual([]);
  });

  it('reads names the way PromQL does', () => {
    expect(metricNames('sum by (instance, le) (rate(a_bucket{job=~"x(-y)?",instance=~"$cp"}[$__rate_interval])) > 1 and on (instance) b offset 15m'))
      .toEqual(['a_bucket', 'b']);
    expect(metricNames('count(c == 0) or vector(0)')).toEqual(['c']);
  });
});
