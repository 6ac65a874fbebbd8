import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { freePort } from '../support/child-servers.js';
import { httpGet, valueOf } from '../cp/metrics/metrics-text.js';
import { runOkesu, startCp, stop, tempDir, type CpProcess } from './harness.js';

describe('okesu cp serve --metrics-listen', () => {
  let cp: CpProcess | undefined;
  afterEach(async () => {
    await stop(cp?.proc);
    if (cp) rmSync(cp.stateDir, { recursive: true, force: true });
    cp = undefined;
  });

  it('serves /metrics, /v1/health and /v1/ready over plain HTTP on the address given', async () => {
    const port = await freePort();
    cp = await startCp(tempDir('metrics-listen'), 0, ['--metrics-listen', `127.0.0.1:${port}`]);
    const version = (await runOkesu(['--version'])).stdout.trim();
    const metrics = await httpGet(`http://127.0.0.1:${port}/metrics`);
    expect(metrics.status).toBe(200);
    expect(valueOf(metrics.text, 'okesu_build_info', { version })).toBe(1);
    expect(metrics.text).toMatch(/^process_resident_memory_bytes \d/m);
    expect((await httpGet(`http://127.0.0.1:${port}/v1/health`)).status).toBe(200);
    expect(JSON.parse((await httpGet(`http://127.0.0.1:${port}/v1/ready`)).text)).toEqual({ ready: true, checks: { store: { ok: true } } });
  });
});
