import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { terminalYaml } from '../../src/cli/terminal-yaml.js';
import { prettyLogLine } from '../../src/cli/pretty-log.js';
import { hello, startCp, waitFor, type CpHarness } from '../cp/cp-harness.js';
import { testDeps } from './helpers.js';

const HOSTILE = 'evil\u001b]0;pwned\u0007\u202egnp.exe\u009b31m';
// eslint-disable-next-line no-control-regex -- finding raw control characters is the point
const RAW_UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('terminalYaml', () => {
  it('parses back to the value --json prints, with no raw control, C1 or bidi character in keys or values', () => {
    const value = { title: HOSTILE, [`k${HOSTILE}`]: [HOSTILE, 'plain', 'two\nlines'], n: 3, nested: { colon: 'a: b', empty: '' }, gone: undefined };
    const text = terminalYaml(value);
    expect(RAW_UNSAFE.test(text)).toBe(false);
    expect(parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
  });
});

describe('-o/--output against a real CP', () => {
  let h: CpHarness;
  const okesu = async (argv: string[]): Promise<{ code: number; out: string; err: string }> => {
    const deps = testDeps({ env: { OKESU_CONFIG: join(h.stateDir, 'admin.yaml') }, now: Date.now });
    const code = await runCli(argv, deps);
    return { code, out: deps.stdout.text(), err: deps.stderr.text() };
  };

  beforeAll(async () => {
    h = await startCp();
    const token = (await h.mintJoin()).token;
    (await h.connectHost(await h.registerHost('web-01', { token }), { hello: false })).send(hello({ labels: { note: HOSTILE } }));
    await waitFor(async () => (await h.admin.hosts()).some((v) => v.connected && v.labels['note'] !== undefined), 5000, 'web-01 online');
  });
  afterAll(async () => h?.close());

  it('yaml is the --json document; --json wins over --output', async () => {
    const json = JSON.parse((await okesu(['hosts', '--json'])).out) as unknown;
    const yaml = await okesu(['hosts', '-o', 'yaml']);
    expect(yaml.code).toBe(0);
    expect(parse(yaml.out)).toEqual(json);
    expect(RAW_UNSAFE.test(yaml.out)).toBe(false);
    expect(JSON.parse((await okesu(['hosts', '--json', '-o', 'yaml'])).out)).toEqual(json);
    expect(JSON.parse((await okesu(['hosts', '--output', 'json'])).out)).toEqual(json);
  });

  it('wide adds the wide-only columns to the table; the default leaves them out', async () => {
    const table = await okesu(['hosts']);
    const wide = await okesu(['hosts', '-o', 'wide']);
    expect(table.out.split('\n')[0]).not.toContain('REGISTERED');
    expect(wide.out.split('\n')[0]).toMatch(/LABELS\s+OS\s+SPOOL\s+REGISTERED$/);
    expect(wide.out).toContain('linux/x64');
    expect(RAW_UNSAFE.test(wide.out)).toBe(false);
  });

  it('refuses an unknown format as a usage error', async () => {
    const r = await okesu(['runs', '-o', 'xml']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/argument 'xml' is invalid.*table, wide, json, yaml/s);
  });
});

describe('prettyLogLine', () => {
  /** What a pino logger writes for `fn`, as pretty lines. */
  function pretty(fn: (log: pino.Logger) => void): string {
    let out = '';
    const sink = new Writable({ write: (chunk: Buffer, _enc, cb) => ((out += prettyLogLine(String(chunk))), cb()) });
    fn(pino({ name: 'okesu-cp', base: { pid: 1, hostname: 'h' } }, sink));
    return out;
  }

  it('writes time, level, name/component, message and fields on one line; an error stack indented below', () => {
    const text = pretty((log) => {
      log.child({ component: 'auth' }).warn({ address: '10.0.0.1', count: 3, why: 'bad token' }, 'refused');
      log.error({ err: new Error('disk full') }, 'store failed');
    });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN {2}okesu-cp\/auth: refused address=10\.0\.0\.1 count=3 why="bad token"$/);
    expect(lines[1]).toMatch(/ERROR okesu-cp: store failed err="Error: disk full"$/);
    expect(lines[2]).toMatch(/^ {4}at /);
  });

  it('shows host text from a log field as escapes, and passes a non-JSON line through made safe', () => {
    expect(RAW_UNSAFE.test(pretty((log) => log.info({ title: HOSTILE }, HOSTILE)))).toBe(false);
    expect(prettyLogLine('not json \u001b[2J\n')).toBe('not json \\x1b[2J\n');
  });
});
