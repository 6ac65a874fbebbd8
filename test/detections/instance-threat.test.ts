import { join } from 'node:path';
import * as vitest from 'vitest';
import { BASE_TOOLS, hasTool, loadBuiltin, restrictedPath, runAgentCli, runCollector, sandbox } from '../agents/sandbox.js';
import { describeCases, findingsOfRule } from './detection-case.js';
import { cases } from './cases/instance-threat.js';
import { Children, freePort, quietInputs, Sockets } from './threat-planting.js';

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

describe('instance-threat: sockets collector', () => {
  // The outgoing side of a connection is dir=out; the accepted side (its local port is a listener) is dir=in, so a
  // client's ephemeral port that happens to be a miner port is never taken for a pool. Same with ss and without.
  it('tells outgoing from accepted connections, with ss and from /proc/net/tcp', async () => {
    const box = sandbox('okesu-det-threat-sockets-');
    const net = new Sockets();
    try {
      const service = await net.listen('127.0.0.1');
      const clientPort = await freePort();
      await net.connect('127.0.0.1', service, clientPort);
      const threat = loadBuiltin('instance-threat');
      const runs = [await runCollector(threat, 'sockets', {}, { PATH: restrictedPath(box.dir, BASE_TOOLS) })];
      if (hasTool('ss')) runs.push(await runCollector(threat, 'sockets'));
      for (const r of runs) {
        expect(r.code, r.stderr).toBe(0);
        const mine = r.lines.filter((l) => l.includes(`:${service} `) && l.includes(`:${clientPort} `));
        expect(mine.map((l) => l.replace(/ proc=.*/, '')).sort()).toEqual([
          `state=ESTAB dir=in allow=no local=127.0.0.1:${service} lport=${service} peer=127.0.0.1:${clientPort} peer_host=127.0.0.1 rport=${clientPort}`,
          `state=ESTAB dir=out allow=no local=127.0.0.1:${clientPort} lport=${clientPort} peer=127.0.0.1:${service} peer_host=127.0.0.1 rport=${service}`,
        ]);
        expect(r.lines).toContainEqual(expect.stringMatching(new RegExp(`^state=LISTEN dir=listen allow=no local=127\\.0\\.0\\.1:${service} lport=${service} `)));
      }
    } finally {
      await net.close();
      box.cleanup();
    }
  });
});
