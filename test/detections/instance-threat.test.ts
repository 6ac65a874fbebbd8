import { join } from 'node:path';
import * as vitest from 'vitest';
import { sandbox, runAgentCli } from '../agents/sandbox.js';
import { describeCases, findingsOfRule } from './detection-case.js';
import { cases } from './cases/instance-threat.js';
import { Children, quietInputs, Sockets } from './threat-planting.js';

describeCases('instance-threat detections', cases, vitest);

const { describe, expect, it } = vitest;

describe('instance-threat: container-runtime-socket on the host', () => {
  // The planted case names another namespace as the host's; here the default (PID 1's, or the agent's own) stands,
  // and a process next to the socket in the host namespace — the ordinary docker client — must stay quiet.
  it('does not report a host process that sees the runtime socket', async () => {
    const box = sandbox('okesu-det-threat-host-');
    const kids = new Children();
    const net = new Sockets();
    try {
      const dir = join(box.dir, 'case');
      await net.listenUnix(join(box.dir, 'docker.sock'));
      await kids.start(dir, 'docker-cli', '/bin/sleep', ['600']);
      const r = await runAgentCli('instance-threat', { ...quietInputs(dir), runtime_sockets: [join(box.dir, 'docker.sock')] }, join(box.dir, 'state'), box.policy);
      expect(r.code, r.stderr).toBe(0);
      expect(findingsOfRule(r, 'container-runtime-socket')).toEqual([]);
      expect(r.collector('container_processes')).toMatchObject({ type: 'collector_result' });
    } finally {
      await kids.stop();
      await net.close();
      box.cleanup();
    }
  }, 60_000);
});
