import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { createControlPlane, type ControlPlaneOptions } from '../../src/cp/cp-server.js';
import { createOperatorClient } from '../../src/transport/operator-client.js';
import { CpHarness, HEARTBEAT_MS, readAdminConfig } from './cp-harness.js';

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

/** The harness with the CP's logger and clock chosen by the test (the stock harness logs nothing and uses Date.now). */
class CustomCp extends CpHarness {
  constructor(stateDir: string, private readonly custom: Partial<ControlPlaneOptions>, private readonly deps: { log: Logger; now?: () => number }) {
    super(stateDir, custom);
  }

  override async boot(): Promise<void> {
    this.cp = createControlPlane(
      { stateDir: this.stateDir, host: '127.0.0.1', port: 0, heartbeatIntervalMs: HEARTBEAT_MS, livenessFlushMs: 50, version: 'test', ...this.custom },
      this.deps,
    );
    const { url, port } = await this.cp.start();
    this.url = url;
    this.port = port;
    this.adminConfig = readAdminConfig(this.stateDir);
    this.admin = createOperatorClient(this.adminConfig);
    this.caPem = this.adminConfig.ca;
  }
}

/** Starts a harness CP with the given options, logger and `now` (keep `now` and `options.clock` the same clock). */
export async function startCustomCp(options: Partial<ControlPlaneOptions>, deps: { log?: Logger; now?: () => number } = {}): Promise<CpHarness> {
  const h = new CustomCp(mkdtempSync(join(tmpdir(), 'okesu-cp-test-')), options, { log: deps.log ?? pino({ level: 'silent' }), ...(deps.now && { now: deps.now }) });
  await h.boot();
  return h;
}
