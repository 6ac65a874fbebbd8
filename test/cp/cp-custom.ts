import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { ControlPlaneOptions } from '../../src/cp/cp-server.js';
import { startCp, type CpHarness } from './cp-harness.js';

/** A pino logger whose JSON lines are kept in `lines` (parsed) and `text` (raw), for assertions on what the CP logs. */
export function captureLog(): { log: Logger; lines: Record<string, unknown>[]; text: () => string } {
  const raw: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines, text: () => raw.join('\n') };
}

/** Starts a harness CP with the given options, logger and `now` (keep `now` and `options.clock` the same clock). */
export function startCustomCp(options: Partial<ControlPlaneOptions>, deps: { log?: Logger; now?: () => number } = {}): Promise<CpHarness> {
  return startCp({ options, ...deps });
}
