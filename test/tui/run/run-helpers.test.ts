import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ignoreCiOnTerminal } from '../../../tui/run/ci-detection.js';
import { routeStrayOutputToLog } from '../../../tui/run/stray-output.js';
import { startTrace, type TraceEntry } from '../../../tui/run/trace.js';

describe('ignoreCiOnTerminal', () => {
  it.each([
    [true, { CI: 'true', CONTINUOUS_INTEGRATION: '1', PATH: '/bin' }, { PATH: '/bin' }],
    [false, { CI: 'true', PATH: '/bin' }, { CI: 'true', PATH: '/bin' }],
    [undefined, { CI: 'true' }, { CI: 'true' }],
  ])('stdout.isTTY %s: %j becomes %j', (isTTY, env, expected) => {
    const copy: NodeJS.ProcessEnv = { ...env };
    ignoreCiOnTerminal(copy, { isTTY });
    expect(copy).toEqual(expected);
  });
});

describe('routeStrayOutputToLog', () => {
  it('sends console output and process warnings to the log while routed, and restores both after', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
    const log = pino({ level: 'info' }, sink);
    const original = console.log;
    const warningListeners = process.listeners('warning').length;
    const undo = routeStrayOutputToLog(log);
    console.log('stray %s', 'text', 42);
    console.error(new Error('boom'));
    process.emitWarning('careful');
    await new Promise((r) => setImmediate(r));
    undo();
    expect(console.log).toBe(original);
    expect(process.listeners('warning').length).toBe(warningListeners);
    expect(lines.map((l) => [l['msg'], l['console'], l['text']])).toEqual([
      ['stray console output', 'log', 'stray text 42'],
      ['stray console output', 'error', expect.stringContaining('Error: boom')],
      ['process warning', undefined, undefined],
    ]);
    expect((lines[2]?.['err'] as { message: string }).message).toBe('careful');
  });
});

describe('startTrace', () => {
  it('appends a key entry for each read of input and a frame entry for each write, then undoes both wraps', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'okesu-trace-')), 'trace.jsonl');
    const stdin = new PassThrough() as unknown as NodeJS.ReadStream;
    const written: string[] = [];
    const stdout = new Writable({ write(chunk: Buffer, _e, cb) { written.push(chunk.toString()); cb(); } }) as unknown as NodeJS.WriteStream;
    const { read } = stdin;
    const { write } = stdout;
    const stop = startTrace(file, stdin, stdout);
    (stdin as unknown as PassThrough).write('j');
    expect(String(stdin.read())).toBe('j');
    expect(stdin.read()).toBeNull();
    stdout.write('frame one');
    stdout.write(Buffer.from('two'));
    stop();
    expect(stdin.read).toBe(read);
    expect(stdout.write).toBe(write);
    expect(written).toEqual(['frame one', 'two']);
    const entries = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TraceEntry);
    // (A memory line comes each second: none in a test this short.)
    expect(entries.map((e) => ('key' in e ? { key: e.key } : 'frame' in e ? { frame: e.frame, bytes: e.bytes } : { mem: true }))).toEqual([{ key: 'j' }, { frame: 1, bytes: 9 }, { frame: 2, bytes: 3 }]);
    const times = entries.map((e) => e.ts);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Math.abs((times[0] as number) - Date.now())).toBeLessThan(5000);
  });
});
