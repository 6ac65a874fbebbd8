import { describe, expect, it } from 'vitest';
import { formatCertExpiry, hostColumns, sortHosts } from '../../src/cli/commands/hosts.js';
import { summaryRows } from '../../src/cli/commands/findings.js';
import { formatEventLine, formatRunStatus, frontmatterName, summarizeEvent } from '../../src/cli/commands/run.js';
import { tokenStatus } from '../../src/cli/commands/token.js';
import { formatAge, formatFindingLine, formatLabels } from '../../src/cli/format.js';
import { runCli } from '../../src/cli/program.js';
import { colorEnabled, createOutput, formatError, formatTable, toned, truncate } from '../../src/cli/output.js';
import type { Column } from '../../src/cli/output.js';
import { OkesuError } from '../../src/errors.js';
import type { RunEvent } from '../../src/protocol/event.js';
import { Capture, NOW, finding, host, runView, testDeps, tokenView } from './helpers.js';
import { expectTerminalSafe, HOSTILE } from './hostile-text.js';

const DAY = 86_400_000;

interface Row { name: string; n: number }
const cols: Column<Row>[] = [
  { header: 'NAME', value: (r) => r.name },
  { header: 'N', value: (r) => String(r.n), align: 'right' },
  { header: 'NOTE', value: (r) => `note for ${r.name}`, flex: true },
];

describe('formatTable', () => {
  it('aligns plain columns with two spaces and no trailing blanks', () => {
    const lines = formatTable([{ name: 'a', n: 1 }, { name: 'longer', n: 100 }], cols);
    expect(lines).toEqual([
      'NAME      N  NOTE',
      'a         1  note for a',
      'longer  100  note for longer',
    ]);
  });

  it('shrinks the flex column to the width with an ellipsis', () => {
    const lines = formatTable([{ name: 'longer', n: 100 }], cols, { width: 24 });
    expect(lines[1]).toBe('longer  100  note for l…');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(24);
  });

  it('cuts cells at their max and flattens line breaks', () => {
    const lines = formatTable([{ t: 'abc\ndefghij' }], [{ header: 'T', value: (r: { t: string }) => r.t, max: 6 }]);
    expect(lines[1]).toBe('abc d…');
  });

  it('paints only when colour is on, keeping alignment', () => {
    const toned: Column<Row>[] = [{ header: 'NAME', value: (r) => r.name, tone: () => 'high' }, cols[1] as Column<Row>];
    const plain = formatTable([{ name: 'a', n: 1 }], toned);
    const colored = formatTable([{ name: 'a', n: 1 }], toned, { color: true });
    expect(plain[1]).toBe('a     1');
    expect(colored[1]).toBe('\x1b[31ma\x1b[39m     1');
  });

  it('prints only the header for no rows', () => {
    expect(formatTable([], cols)).toEqual(['NAME  N  NOTE']);
  });

  it('truncates by characters, not bytes', () => {
    expect(truncate('●●●●', 3)).toBe('●●…');
    expect(truncate('ab', 3)).toBe('ab');
  });
});

describe('colour and errors', () => {
  it('uses colour only on a TTY without NO_COLOR', () => {
    const tty = Object.assign(new Capture(), { isTTY: true });
    expect(colorEnabled(tty, {})).toBe(true);
    expect(colorEnabled(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled(new Capture(), {})).toBe(false);
  });

  it('formats errors as okesu: CODE: message, without a stack', () => {
    expect(formatError(new OkesuError('OKS_ERR_NOT_FOUND', 'run r_1'))).toBe('okesu: OKS_ERR_NOT_FOUND: not found: run r_1');
    expect(formatError(new Error('boom'))).toBe('okesu: OKS_ERR_INTERNAL: boom');
    expect(formatError(new Error('boom'), { OKESU_DEBUG: '1' })).toContain('at ');
  });
});

describe('row formatting', () => {
  it.each([
    [NOW - 3000, '3s ago'],
    [NOW - 5 * 60_000, '5m ago'],
    [NOW - 2 * 3_600_000, '2h ago'],
    [NOW - 4 * 86_400_000, '4d ago'],
    [NOW + 5000, '0s ago'],
    [null, 'never'],
  ])('formats the age of %s as %s', (ts, text) => expect(formatAge(ts, NOW)).toBe(text));

  it('renders the hosts table with glyph + word states, online first', () => {
    const hosts = [
      host({ hostname: 'db-01', state: 'offline', last_heartbeat: NOW - 7_200_000, labels: { role: 'db', env: 'prod' } }),
      host({ hostname: 'web-02', state: 'stale', last_heartbeat: NOW - 90_000, running: 2, transport: 'auto', path: 'jobs', poll_ms: 10_000 }),
      host(),
      host({ hostname: 'batch-01', transport: 'jobs', path: 'jobs', poll_ms: 60_000, connected: false, rollout: { rollout_id: 'ro_0123456789abcdef', version: '0.2.0', state: 'rolled_back' } }),
    ];
    expect(formatTable(sortHosts(hosts), hostColumns(NOW))).toEqual([
      'STATE      HOST      TRANSPORT    POLL  VERSION  ROLLOUT            LAST HEARD  RUNNING  CERT  LABELS',
      '● online   batch-01  jobs           1m  0.1.0    rolled_back 0.2.0  3s ago            0  -     -',
      '● online   web-01    tunnel          -  0.1.0    -                  3s ago            0  -     -',
      '◐ stale    web-02    auto (jobs)   10s  0.1.0    -                  1m ago            2  -     -',
      '○ offline  db-01     tunnel          -  0.1.0    -                  2h ago            0  -     env=prod,role=db',
    ]);
    expect(formatLabels({ b: '2', a: '1' })).toBe('a=1,b=2');
  });

  it.each([
    ['a fresh identity', NOW - 10 * DAY, NOW + 355 * DAY, { text: '355d' }],
    ['one whose renewal is due', NOW - 300 * DAY, NOW + 65 * DAY, { text: '⚠ 65d', tone: 'warn' }],
    ['a 30 s identity with 9 s left', NOW - 21_000, NOW + 9000, { text: '⚠ 9s', tone: 'warn' }],
    ['an expired one', NOW - 366 * DAY, NOW - DAY, { text: '✗ expired', tone: 'error' }],
    ['one the CP does not report', null, null, { text: '-' }],
  ])('shows the CERT cell of %s', (_name, issued, expires, cell) => {
    expect(formatCertExpiry({ cert_issued_at: issued, cert_expires_at: expires }, NOW)).toEqual(cell);
  });

  it('renders the tail line: ISO time, padded severity, host, agent, title, resource', () => {
    expect(formatFindingLine(finding())).toBe('2026-11-24T17:23:19.123Z  HIGH      web-01  edr  Reverse shell from nginx  pid:1337, binary:/usr/bin/nc');
    expect(formatFindingLine(finding({ resource: '', severity: 'CRITICAL' }))).toBe('2026-11-24T17:23:19.123Z  CRITICAL  web-01  edr  Reverse shell from nginx');
  });

  it('orders summary severities CRITICAL..INFO with zeros, others by count', () => {
    const rows = summaryRows({
      total: 4, groups: 3, by_severity: { HIGH: 3, LOW: 1 }, by_category: { file: 1, process: 3 }, by_agent: { edr: 4 },
      by_status: { open: 3, acknowledged: 1 }, open_by_severity: { HIGH: 2, LOW: 1 },
    });
    expect(rows.severity.map((r) => `${r.key}=${r.count}`)).toEqual(['CRITICAL=0', 'HIGH=3', 'MEDIUM=0', 'LOW=1', 'INFO=0']);
    expect(rows.severity.map((r) => r.open)).toEqual([0, 2, 0, 1, 0]);
    expect(rows.category.map((r) => r.key)).toEqual(['process', 'file']);
  });

  it('tells token states apart', () => {
    expect(tokenStatus(tokenView(), NOW)).toBe('active');
    expect(tokenStatus(tokenView({ expires_at: NOW - 1 }), NOW)).toBe('expired');
    expect(tokenStatus(tokenView({ revoked_at: NOW }), NOW)).toBe('revoked');
    expect(tokenStatus(tokenView({ uses_left: 0 }), NOW)).toBe('used up');
  });
});

describe('run events', () => {
  const ev = (body: Record<string, unknown>): RunEvent =>
    ({ ts: NOW, host: 'web-01', agent: 'edr', run_id: 'r_x', seq: 7, ...body }) as RunEvent;

  it.each([
    [{ type: 'finding', severity: 'high', title: 'Odd binary' }, 'HIGH Odd binary'],
    [{ type: 'text', text: 'looking at\nprocesses' }, 'looking at processes'],
    [{ type: 'run_end', status: 'completed', duration_ms: 12_000, findings: 1 }, 'completed, in 12s, 1 finding'],
    [{ type: 'error', message: 'provider crashed' }, 'provider crashed'],
    [{ type: 'tool_call', name: 'ps' }, 'ps'],
    [{ type: 'tick_start' }, ''],
    [{ type: 'custom_thing', n: 3 }, '{"n":3}'],
  ])('summarises %j', (body, text) => expect(summarizeEvent(ev(body))).toBe(text));

  it('formats the event line with time, seq and type', () => {
    expect(formatEventLine(ev({ type: 'text', text: 'hi' }))).toMatch(/^\d\d:\d\d:\d\d {5}7 {2}text {14}hi$/);
  });

  it('formats the final status', () => {
    const run = runView({ status: 'failed', started_at: NOW, ended_at: NOW + 65_000, findings: 2, error: 'provider exited 1' });
    expect(formatRunStatus(run)).toBe('run r_01JD0000000000000000000000 failed in 1m5s, 2 findings, error: provider exited 1');
  });

  it.each([
    ['---\nname: disk-check\ndescription: x\n---\nBody', 'disk-check'],
    ['---\r\nname: crlf\r\n---\r\n', 'crlf'],
    ['---\ndescription: x\n---\n', undefined],
    ['no frontmatter', undefined],
    ['---\nname: [broken\n---\n', undefined],
  ])('reads the frontmatter name of %j', (text, name) => expect(frontmatterName(text)).toBe(name));
});

describe('the output layer makes host text safe, whatever a command passes it', () => {
  const make = (tty = false) => {
    const stdout = Object.assign(new Capture(), { isTTY: tty });
    const stderr = new Capture();
    return { out: createOutput({ stdout, stderr, env: {} }), stdout, stderr };
  };

  it('printLine and status: one line each, control characters shown as escapes', () => {
    const { out, stdout, stderr } = make();
    out.printLine(`title ${HOSTILE}`);
    out.status(HOSTILE);
    expect(stdout.text()).toBe('title A\\x1b]0;pwned\\x07B\\x1b[2JC\\x07D\\x08E\\x00F\\x9b31mG\\u202eH\\u2066I\\x7fJ K L\\x1b[31mM\n');
    expect(stderr.lines()).toHaveLength(1);
    expectTerminalSafe(stdout.text() + stderr.text(), 'printLine + status');
  });

  it('paints toned spans on a terminal, after making their text safe; never paints host escapes', () => {
    const { out, stdout } = make(true);
    out.printLine(['sev ', toned('HIGH\u001b[8m', 'high'), ' end\u009b']);
    expect(stdout.text()).toBe('sev \x1b[31mHIGH\\x1b[8m\x1b[39m end\\x9b\n');
  });

  it('tables: every cell on one line, escapes shown, then cut', () => {
    const { out, stdout } = make();
    out.printTable([{ t: HOSTILE }], [{ header: 'T', value: (r: { t: string }) => r.t, max: 30 }]);
    expect(stdout.lines()).toEqual(['T', 'A\\x1b]0;pwned\\x07B\\x1b[2JC\\x0…']);
    expectTerminalSafe(stdout.text(), 'printTable');
  });

  it('errors keep their line breaks, nothing else', () => {
    const { out, stderr } = make();
    out.printError(new Error(`first\nsecond ${HOSTILE}`));
    expect(stderr.text()).toMatch(/^okesu: OKS_ERR_INTERNAL: first\nsecond A\\x1b\]0;pwned/);
    expectTerminalSafe(stderr.text(), 'printError', { tab: true });
  });

  it('--json is exact, and escapes C1 and bidi controls JSON.stringify leaves raw', () => {
    const { out, stdout } = make();
    out.printJson({ title: HOSTILE });
    out.printJsonLine({ title: HOSTILE });
    expectTerminalSafe(stdout.text(), 'printJson');
    const [pretty, line] = [stdout.text().slice(0, stdout.text().lastIndexOf('{')), stdout.text().slice(stdout.text().lastIndexOf('{'))];
    expect(JSON.parse(pretty)).toEqual({ title: HOSTILE });
    expect(JSON.parse(line)).toEqual({ title: HOSTILE });
    expect(line).toContain('\\u009b31m');
  });
});

describe('usage errors, which quote the arguments given', () => {
  it('show their control characters as escapes too', async () => {
    const deps = testDeps();
    expect(await runCli([`nope${HOSTILE}`], deps)).toBe(2);
    expect(deps.stderr.text()).toContain("unknown command 'nopeA\\x1b]0;pwned\\x07B");
    expectTerminalSafe(deps.stderr.text(), 'stderr of a usage error', { tab: true });
  });
});
