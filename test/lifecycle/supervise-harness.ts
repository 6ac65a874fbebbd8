import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { lifecyclePaths, type LifecyclePaths, type PendingUpgrade } from '../../daimon/lifecycle/state-layout.js';

/** Polls `fn` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, fn: () => T, timeoutMs = 10_000): Promise<Exclude<T, false | undefined | null | 0 | ''>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value) return value as Exclude<T, false | undefined | null | 0 | ''>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A logger whose JSON lines are kept for assertions. */
export function captureLog(): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, cb) { chunks.push(chunk.toString()); cb(); } });
  return {
    log: pino({ level: 'debug' }, stream),
    lines: () => chunks.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** What a "version" does once started (they are shell scripts standing in for okesu executables). */
export type Behaviour =
  | { kind: 'healthy' } // writes health.json naming its version, then waits for a signal
  | { kind: 'hang' } // never writes health.json
  | { kind: 'stubborn' } // ignores SIGTERM and never heartbeats
  | { kind: 'exit'; code: number }; // exits at once

/** One start of a version, as its script recorded it. */
export interface StartRecord {
  pid: number;
  version: string;
  supervisorPid: string;
  args: string;
}

/** A temporary daimon state directory with helpers to plant versions, trials and symlinks. */
export interface TestState {
  dir: string;
  paths: LifecyclePaths;
  /** Writes `bin/okesu-VERSION`: a shell script with `behaviour`. */
  version(version: string, behaviour: Behaviour): string;
  /** Points `bin/NAME` (current, previous) at `okesu-VERSION` (relative link, replaced by rename). */
  link(name: 'current' | 'previous', version: string): void;
  /** Writes `upgrade/pending.json`. */
  pending(p: PendingUpgrade): void;
  /** The starts recorded so far, oldest first. */
  starts(): StartRecord[];
  /** What `bin/current` points at (`okesu-VERSION`), undefined when absent. */
  currentTarget(): string | undefined;
  result(): Record<string, unknown> | undefined;
}

/** Makes a fresh state directory. */
export function testState(): TestState {
  const dir = mkdtempSync(join(tmpdir(), 'okesu-supervise-'));
  const paths = lifecyclePaths(dir);
  mkdirSync(paths.bin, { recursive: true });
  mkdirSync(paths.upgrade, { recursive: true });
  const startsFile = join(dir, 'starts');
  const read = (file: string): string | undefined => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  };
  return {
    dir,
    paths,
    version(version, behaviour) {
      const file = paths.executable(version);
      writeFileSync(file, script(dir, startsFile, version, behaviour), { mode: 0o755 });
      chmodSync(file, 0o755);
      return file;
    },
    link(name, version) {
      const tmp = join(paths.bin, `.${name}.tmp`);
      symlinkSync(`okesu-${version}`, tmp);
      renameSync(tmp, name === 'current' ? paths.current : paths.previous);
    },
    pending(p) {
      writeFileSync(paths.pending, JSON.stringify(p));
    },
    starts() {
      return (read(startsFile) ?? '').split('\n').filter((l) => l !== '').map((l) => {
        const [pid, version, supervisorPid, ...args] = l.split(' ');
        return { pid: Number(pid), version: version ?? '', supervisorPid: supervisorPid ?? '', args: args.join(' ') };
      });
    },
    currentTarget() {
      try {
        return readlinkSync(paths.current);
      } catch {
        return undefined;
      }
    },
    result() {
      const text = read(paths.result);
      return text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>);
    },
  };
}

/** A POSIX sh script: records its start, then behaves. */
export function script(stateDir: string, startsFile: string, version: string, behaviour: Behaviour): string {
  const lines = ['#!/bin/sh', `echo "$$ ${version} \${OKESU_SUPERVISOR_PID:-none} $*" >> '${startsFile}'`];
  const wait = ['sleep 120 & p=$!', 'trap \'kill $p; exit 0\' TERM INT', 'trap \'kill $p; exit 75\' USR1', 'wait $p'];
  switch (behaviour.kind) {
    case 'exit':
      lines.push(`exit ${behaviour.code}`);
      break;
    case 'healthy':
      lines.push(
        'at=$(date +%s%3N)',
        `printf '{"version":"%s","pid":%s,"hostname":"test","at":%s}' '${version}' $$ "$at" > '${stateDir}/.health.tmp'`,
        `mv '${stateDir}/.health.tmp' '${stateDir}/health.json'`,
        ...wait,
      );
      break;
    case 'hang':
      lines.push(...wait);
      break;
    case 'stubborn':
      lines.push('trap "" TERM', 'while :; do sleep 0.2; done');
      break;
  }
  return `${lines.join('\n')}\n`;
}
