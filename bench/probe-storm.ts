/**
 * Diagnostic (issue 17): where a NEW operator connection's time goes during a reconnect storm.
 * `npx tsx bench/probe-storm.ts [daimons]`: N durable sims, SIGKILL + restart of the CP, then a fresh HTTPS call every
 * 100 ms timed in phases (TCP connect, TLS secure, response) while `ss` samples the listen socket's accept queue.
 */
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { DAIMON_BACKOFF } from './sim/durable-sim.js';
import { startFleet } from './sim/fleet.js';
import { startRestartableCp } from './sim/restartable-cp.js';
import { joinFleet } from './sim/setup.js';
import { percentile, sleep, waitUntil } from './lib/stats.js';

const daimons = Number(process.argv[2] ?? 1000);
const cpArgs = (process.env['PROBE_CP_ARGS'] ?? '').split(' ').filter(Boolean);
const log = (m: string): void => console.error(`[probe] ${m}`);

interface Call { at: number; tcp: number; tls: number; total: number; err?: string }

function freshCall(port: number, ca: string, t0ref: number): Promise<Call> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const c: Call = { at: Date.now() - t0ref, tcp: -1, tls: -1, total: -1 };
    const req = https.get({ host: '127.0.0.1', port, path: '/v1/health', agent: false, ca, timeout: 60_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ...c, total: performance.now() - t0 }));
    });
    req.on('socket', (s) => {
      s.on('connect', () => (c.tcp = performance.now() - t0));
      (s as TLSSocket).on('secureConnect', () => (c.tls = performance.now() - t0));
    });
    req.on('error', (e) => resolve({ ...c, err: e.message, total: performance.now() - t0 }));
  });
}

function acceptQueue(port: number): number {
  try {
    const out = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' });
    return Number(out.trim().split(/\s+/)[1] ?? -1);
  } catch {
    return -1;
  }
}

const cp = await startRestartableCp(cpArgs);
const fleet = await startFleet(daimons, 'probe');
try {
  await joinFleet(fleet, cp, undefined, log);
  await fleet.startDurable(daimons, DAIMON_BACKOFF);
  await waitUntil('all connected', async () => (await cp.admin.hosts()).filter((h) => h.connected).length === daimons, 120_000, 250);
  fleet.emitDurable(daimons >= 1000 ? 300 : 200);
  await sleep(2000);
  await cp.kill('SIGKILL');
  const spawnedAt = Date.now();
  await cp.start();
  const listenAt = Date.now() - spawnedAt;
  const calls: Call[] = [];
  const queue: { at: number; q: number; cpu: number }[] = [];
  const cpPid = cp.proc().child.pid ?? 0;
  const ticks = (): number => { try { const f = readFileSync(`/proc/${cpPid}/stat`, 'utf8').split(') ')[1]!.split(' '); return Number(f[11]) + Number(f[12]); } catch { return 0; } };
  const kept: { at: number; ms: number }[] = [];
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: cp.config.ca });
  let running = true;
  const qLoop = (async () => {
    let last = ticks();
    while (running) {
      const now = ticks();
      queue.push({ at: Date.now() - spawnedAt, q: acceptQueue(cp.port), cpu: now - last });
      last = now;
      await sleep(100);
    }
  })();
  const kLoop = (async () => {
    while (running) {
      const t = performance.now();
      const at = Date.now() - spawnedAt;
      await new Promise<void>((resolve) => https.get({ host: '127.0.0.1', port: cp.port, path: '/v1/health', agent, ca: cp.config.ca }, (res) => { res.resume(); res.on('end', resolve); }).on('error', () => resolve()));
      kept.push({ at, ms: performance.now() - t });
      const wait = 100 - (performance.now() - t);
      if (wait > 0) await sleep(wait);
    }
  })();
  const pLoop = (async () => {
    while (running) {
      const t = performance.now();
      calls.push(await freshCall(cp.port, cp.config.ca, spawnedAt));
      const wait = 100 - (performance.now() - t);
      if (wait > 0) await sleep(wait);
    }
  })();
  await waitUntil('sims online', async () => (await fleet.durableStats()).online === daimons, 600_000, 100);
  const onlineAt = Date.now() - spawnedAt;
  running = false;
  await Promise.all([qLoop, pLoop, kLoop]);
  const ok = calls.filter((c) => !c.err);
  const ph = (f: (c: Call) => number): string => `p50 ${percentile(ok.map(f), 50).toFixed(0)} p99 ${percentile(ok.map(f), 99).toFixed(0)} max ${Math.max(...ok.map(f)).toFixed(0)}`;
  console.log(`daimons ${daimons}; listening at ${listenAt} ms, all online at ${onlineAt} ms; ${ok.length} calls, ${calls.length - ok.length} errors`);
  console.log(`tcp connect  ${ph((c) => c.tcp)}`);
  console.log(`tls secure   ${ph((c) => c.tls - c.tcp)} (after connect)`);
  console.log(`response     ${ph((c) => c.total - c.tls)} (after secure)`);
  console.log(`total        ${ph((c) => c.total)}`);
  console.log(`accept queue max ${Math.max(...queue.map((q) => q.q))}; samples >0: ${queue.filter((q) => q.q > 0).length}/${queue.length}`);
  for (const c of calls.filter((x) => x.total > 300)) console.log(`slow @${c.at} ms: tcp ${c.tcp.toFixed(0)} tls ${c.tls.toFixed(0)} total ${c.total.toFixed(0)} ${c.err ?? ''}`);
  console.log(`queue(at:len:cpuTicks): ${queue.map((q) => `${q.at}:${q.q}:${q.cpu}`).join(' ')}`);
  console.log(`kept-alive p50 ${percentile(kept.map((k) => k.ms), 50).toFixed(0)} p99 ${percentile(kept.map((k) => k.ms), 99).toFixed(0)}; slow: ${kept.filter((k) => k.ms > 200).map((k) => `${k.at}:${k.ms.toFixed(0)}`).join(' ')}`);
} finally {
  await fleet.close();
  await cp.close();
}
