/**
 * Micro measurement (issue 13): the CP's CPU per daimon reconnect with a full mutual-TLS handshake and with a resumed
 * TLS session. One registered host reconnects N times (default 500) each way against a real `okesu cp serve` child
 * (the built bundle): open the tunnel, wait for the welcome, send the hello, close. CPU is the CP process's utime +
 * stime over the loop. Run: `npm run build && npx tsx bench/sim/resume-cost.ts [N]`.
 */
import tls from 'node:tls';
import type { ClientRequestArgs } from 'node:http';
import WebSocket from 'ws';
import { startCpChild } from '../lib/cp-process.js';
import { readProc } from '../lib/proc-sampler.js';
import type { HostIdentity } from '../lib/register-host.js';

const HELLO = JSON.stringify({ type: 'hello', protocol: 1, version: 'bench', os: 'linux', arch: 'x64', labels: {}, running: [], spool_depth: 0 });

/** One reconnect: resolves with whether TLS resumed and the ticket(s) the CP sent. */
function reconnect(port: number, id: HostIdentity, ctx: tls.SecureContext, session: Buffer | undefined): Promise<{ resumed: boolean; ticket?: Buffer }> {
  return new Promise((resolve, reject) => {
    let ticket: Buffer | undefined;
    let resumed = false;
    const ws = new WebSocket(`wss://127.0.0.1:${port}/v1/tunnel`, {
      headers: { authorization: `Bearer ${id.credential}` }, perMessageDeflate: false,
      ...(session && { session }),
      createConnection: (o: ClientRequestArgs) => {
        const s = tls.connect({ ...(o as tls.ConnectionOptions), secureContext: ctx, path: undefined, servername: '' });
        s.on('session', (t: Buffer) => (ticket = t));
        return s;
      },
    });
    ws.on('upgrade', (res) => (resumed = (res.socket as tls.TLSSocket).isSessionReused()));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`refused: HTTP ${res.statusCode}`)));
    ws.on('error', reject);
    ws.once('message', () => {
      ws.send(HELLO);
      ws.close(1000);
    });
    ws.on('close', () => resolve({ resumed, ...(ticket && { ticket }) }));
  });
}

async function loop(port: number, id: HostIdentity, pid: number, n: number, resume: boolean): Promise<{ cpuMsPer: number; wallMsPer: number; resumed: number }> {
  const ctx = tls.createSecureContext({ ca: id.ca, key: id.key, cert: id.cert });
  let session: Buffer | undefined;
  // Warm-up: JIT, the store's statements, a first ticket.
  for (let i = 0; i < 20; i++) session = (await reconnect(port, id, ctx, resume ? session : undefined)).ticket ?? session;
  let resumed = 0;
  const before = readProc(pid);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = await reconnect(port, id, ctx, resume ? session : undefined);
    if (r.resumed) resumed++;
    session = r.ticket ?? session;
  }
  const wall = performance.now() - t0;
  const after = readProc(pid);
  return { cpuMsPer: ((after.cpuSeconds - before.cpuSeconds) * 1000) / n, wallMsPer: wall / n, resumed };
}

const n = Number(process.argv[2] ?? 500);
const cp = await startCpChild();
try {
  const { token } = await cp.admin.createToken({ kind: 'join', uses: 1, name: 'resume-cost' });
  const id = await cp.register('resume-01', token);
  // Alternate the two modes so drift on a shared machine hits both alike.
  const runs: Record<'full' | 'resumed', { cpuMsPer: number; wallMsPer: number; resumed: number }[]> = { full: [], resumed: [] };
  for (let round = 0; round < 2; round++) {
    runs.full.push(await loop(cp.port, id, cp.pid, n / 2, false));
    runs.resumed.push(await loop(cp.port, id, cp.pid, n / 2, true));
  }
  const summary = (rs: typeof runs.full): string => {
    const cpu = rs.reduce((a, r) => a + r.cpuMsPer, 0) / rs.length;
    const wall = rs.reduce((a, r) => a + r.wallMsPer, 0) / rs.length;
    return `CP CPU ${cpu.toFixed(2)} ms/reconnect, wall ${wall.toFixed(2)} ms, resumed ${rs.reduce((a, r) => a + r.resumed, 0)}/${n}`;
  };
  process.stdout.write(`reconnects: ${n} each way, one at a time\nfull handshake: ${summary(runs.full)}\nresumed:        ${summary(runs.resumed)}\n`);
} finally {
  await cp.close();
}
