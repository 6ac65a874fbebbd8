import type WebSocket from 'ws';
import { DurableSim, type BackoffPolicy } from './durable-sim.js';
import type { HostIdentity } from '../lib/register-host.js';
import type { DurableStats, FleetTarget, SimTimeline } from './messages.js';

/** The durable sims of one simulator process and the one timer that makes them emit, in turn. */
export interface DurableFleet {
  /** Starts sims for `identities` (at most `concurrency` connecting at once) and resolves when each had its first welcome. */
  start(identities: readonly HostIdentity[], concurrency: number): Promise<void>;
  /** Turns tunnels this process opened and got a welcome on into durable sims of their hosts, without reconnecting. */
  adopt(tunnels: readonly AdoptedTunnel[]): void;
  /** Emits `perSecond` findings per second across the sims, round robin (0 stops). */
  emitRate(perSecond: number): void;
  stats(): DurableStats;
  timeline(): SimTimeline[];
  stop(): void;
}

/** An open tunnel handed to a durable sim: its host, the socket, its welcome's figures and the TLS session ticket kept. */
export interface AdoptedTunnel {
  id: HostIdentity;
  ws: WebSocket;
  welcome: { intervalMs: number; spreadMs: number };
  session: Buffer | undefined;
}

const TICK_MS = 50;

/** The counters of a process without durable sims. */
export const NO_DURABLE_STATS: Readonly<DurableStats> = { sims: 0, online: 0, emitted: 0, pending: 0, resent: 0, welcomes: 0, failedAttempts: 0, resumed: 0, lastUpAt: 0, lastDownAt: 0 };

/** Creates the process's durable fleet against `target`, connecting from `localAddress`. */
export function createDurableFleet(target: FleetTarget, localAddress: string, backoff: BackoffPolicy): DurableFleet {
  const sims: DurableSim[] = [];
  let timer: NodeJS.Timeout | undefined;
  let next = 0;
  return {
    async start(identities, concurrency) {
      let i = 0;
      const worker = async (): Promise<void> => {
        while (i < identities.length) {
          const sim = new DurableSim(identities[i++] as HostIdentity, target, localAddress, backoff);
          sims.push(sim);
          await sim.start();
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, identities.length) }, worker));
    },
    adopt(tunnels) {
      for (const t of tunnels) {
        const sim = new DurableSim(t.id, target, localAddress, backoff);
        sims.push(sim);
        sim.adopt(t.ws, t.welcome, t.session);
      }
    },
    emitRate(perSecond) {
      clearInterval(timer);
      timer = undefined;
      if (perSecond <= 0 || sims.length === 0) return;
      // Owed emissions accrue with time, so the rate holds even when ticks come late (a busy loop).
      const t0 = performance.now();
      let done = 0;
      timer = setInterval(() => {
        const owed = Math.floor(((performance.now() - t0) * perSecond) / 1000) - done;
        for (let k = 0; k < owed; k++) (sims[next++ % sims.length] as DurableSim).emit();
        done += owed;
      }, TICK_MS);
    },
    stats() {
      const s: DurableStats = { sims: sims.length, online: 0, emitted: 0, pending: 0, resent: 0, welcomes: 0, failedAttempts: 0, resumed: 0, lastUpAt: 0, lastDownAt: 0 };
      for (const sim of sims) {
        if (sim.up) s.online++;
        s.emitted += sim.emitted;
        s.pending += sim.pending;
        s.resent += sim.resent;
        s.welcomes += sim.welcomes;
        s.failedAttempts += sim.failedAttempts;
        s.resumed += sim.resumed;
        s.lastUpAt = Math.max(s.lastUpAt, sim.lastUpAt);
        s.lastDownAt = Math.max(s.lastDownAt, sim.lastDownAt);
      }
      return s;
    },
    timeline: () => sims.map((sim) => ({ upAt: sim.upAt, downAt: sim.downAt })),
    stop() {
      clearInterval(timer);
      for (const sim of sims) sim.stop();
    },
  };
}
