/**
 * A flood of bad `/v1/register` calls, run as its own process so its work does not delay the bench's own timers:
 * `clients` clients, each bound to its own loopback source address with `perClient` calls in flight, post a
 * well-formed join token this CP never issued at up to `ratePerS` calls per second in all, until `durationMs` or
 * `maxCalls` is reached, then print one JSON line of counts to stdout. argv[2] is the JSON config.
 */
import https from 'node:https';

interface FloodConfig {
  port: number;
  ca: string;
  /** A join token of the CP's CA pin that was never issued (fails at lookup: the cheapest path a guesser reaches). */
  token: string;
  csr: string;
  clients: number;
  perClient: number;
  /** First source address is 127.0.0.<firstAddress>, then the next ones. */
  firstAddress: number;
  durationMs: number;
  maxCalls: number;
  /** Calls per second over all clients (each in-flight slot is paced to its share). */
  ratePerS: number;
  /** A fresh TCP + TLS connection per call (what a naive flooder does) instead of kept-alive ones. */
  fresh: boolean;
}

/** Counts a flood run prints. */
export interface FloodCounts {
  calls: number;
  byStatus: Record<string, number>;
  errors: number;
  seconds: number;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as FloodConfig;
const body = JSON.stringify({ token: cfg.token, csr: cfg.csr, hostname: 'flood-00', os: 'linux', arch: 'x64', version: 'flood' });
const counts: FloodCounts = { calls: 0, byStatus: {}, errors: 0, seconds: 0 };
const t0 = performance.now();
const deadline = t0 + cfg.durationMs;

const one = (agent: https.Agent | false, localAddress: string): Promise<void> =>
  new Promise((resolve) => {
    const req = https.request(
      {
        host: '127.0.0.1', port: cfg.port, path: '/v1/register', method: 'POST', ca: cfg.ca, agent, localAddress,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 30_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const k = String(res.statusCode);
          counts.byStatus[k] = (counts.byStatus[k] ?? 0) + 1;
          resolve();
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      counts.errors++;
      resolve();
    });
    req.end(body);
  });

const slots = cfg.clients * cfg.perClient;
const slotIntervalMs = (1000 * slots) / cfg.ratePerS;
const worker = async (agent: https.Agent | false, localAddress: string, slot: number): Promise<void> => {
  // Slots start staggered so the calls are spread evenly over each interval; a slow answer delays only its slot.
  let next = t0 + (slot * slotIntervalMs) / slots;
  while (performance.now() < deadline && counts.calls < cfg.maxCalls) {
    const wait = next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (performance.now() >= deadline) break;
    next += slotIntervalMs;
    counts.calls++;
    await one(agent, localAddress);
  }
};

const agents: (https.Agent | false)[] = [];
const workers: Promise<void>[] = [];
for (let c = 0; c < cfg.clients; c++) {
  const localAddress = `127.0.0.${cfg.firstAddress + c}`;
  const agent = cfg.fresh ? false : new https.Agent({ keepAlive: true, maxSockets: cfg.perClient, localAddress } as https.AgentOptions);
  agents.push(agent);
  for (let i = 0; i < cfg.perClient; i++) workers.push(worker(agent, localAddress, workers.length));
}
await Promise.all(workers);
for (const a of agents) if (a) a.destroy();
counts.seconds = (performance.now() - t0) / 1000;
process.stdout.write(`${JSON.stringify(counts)}\n`);
