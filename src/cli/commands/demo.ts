import { basename, join, relative, resolve } from 'node:path';
import { hostname as osHostname } from 'node:os';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { clientConfigSchema } from '../../protocol/client-config.js';
import { createOperatorClient } from '../../transport/operator-client.js';
import { VERSION } from '../../version.js';
import { action, exitWith, untilStopped, usageError, type CliContext } from '../context.js';
import { durationArg } from '../options.js';
import { createLogger } from '../logger.js';
import { createFindingPrinter } from './tail.js';
import { parseListen, loadDefinitions } from './cp-serve.js';
import { openConsole } from './console.js';
import { MAX_SIM_HOSTS, simHostsArg, startSimHosts, writeSimAgent } from './demo-hosts.js';

/**
 * `okesu demo`: an embedded CP and a daimon for this host in one process (plus `--hosts N` simulated hosts). In a
 * terminal it opens the console on the embedded CP; otherwise (CI, pipes, `--json`) it follows findings like
 * `okesu tail`.
 */
export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('run an embedded control plane and a daimon for this host (ticking the edr and sre-health monitors), dispatch the built-in host-check agent, and open the console on it (in a terminal; else follow findings)')
    .option('--state <dir>', 'demo state directory', './.okesu/demo')
    .option('--listen <host:port>', 'where the embedded CP listens (port 0 picks a free one)', '127.0.0.1:0')
    .option('--agent <name>', 'agent to dispatch', 'host-check')
    .option('--every <dur>', 'dispatch the agent again at this interval', durationArg)
    .option('--json', 'print findings as JSON lines instead of opening the console')
    .option('--hosts <n>', `also run N simulated hosts (sim-001…: real daimons over real tunnels, labels sim=true and zone=a|b|c, agent sim-check; at most ${MAX_SIM_HOSTS})`, simHostsArg, 0)
    .option('--jobs-hosts <n>', `also run N simulated jobs-mode hosts (job-001…: real daimons that register through and poll an embedded in-process bucket every 2 s, never connecting to the CP; at most ${MAX_SIM_HOSTS})`, simHostsArg, 0)
    .action(
      action(ctx, async (opts: { state: string; listen: string; agent: string; every?: number; json?: boolean; hosts: number; jobsHosts: number }, cmd: Command) => {
        const listen = parseListen(opts.listen);
        if (!listen) usageError(cmd, `--listen: expected HOST:PORT, got "${opts.listen}"`);
        const state = resolve(opts.state);
        mkdirSync(state, { recursive: true, mode: 0o700 });
        // Both servers log JSON to a file: stdout is for findings.
        const logPath = join(state, 'okesu.log');
        // The demo's daimon takes the provider keys out of the environment, as `okesu daemon` does.
        const [{ takeProviderSecrets }, { createRedactor }] = await Promise.all([
          import('../../../daimon/secrets/take-secrets.js'),
          import('../../../daimon/secrets/redact.js'),
        ]);
        const secrets = takeProviderSecrets({ env: ctx.deps.env }).store;
        const log = createLogger({ name: 'okesu-demo', fd: openSync(logPath, 'a', 0o600), scrub: createRedactor(secrets).text });
        const cpDir = join(state, 'cp');
        // The simulated hosts' agent is in the CP's library too, so the console's dispatch view offers it.
        const simAgents = join(state, 'sim-agents');
        const simulated = opts.hosts + opts.jobsHosts > 0;
        if (simulated) writeSimAgent(simAgents);
        const definitions = await loadDefinitions(simulated ? [simAgents] : [], (msg) => log.warn({ problem: msg }, 'agent file skipped'));
        const [{ createControlPlane }, { createDaimon }, { createMemoryBucket }] = await Promise.all([
          import('../../cp/cp-server.js'), import('../../../daimon/daimon.js'), import('../../transport/bucket/memory-bucket.js'),
        ]);
        // Jobs-mode hosts share an in-process bucket with the CP: the protocol is the real one (signed objects,
        // conditional claims, registration through the bucket); only the store is in memory, so no S3 is needed.
        const bucket = opts.jobsHosts > 0 ? createMemoryBucket('demo') : undefined;
        const cp = createControlPlane(
          {
            stateDir: cpDir, host: listen.host, port: listen.port, version: VERSION, resolveDefinition: (n) => definitions.get(n), agentLibrary: () => definitions,
            ...(bucket && { bucketStore: bucket, bucketScanMs: 1000 }),
          },
          { log: log.child({ role: 'cp' }) },
        );
        const { url } = await cp.start();
        const config = clientConfigSchema.parse(parseYaml(readFileSync(join(cpDir, 'admin.yaml'), 'utf8')));
        const client = createOperatorClient(config);

        const hostname = osHostname();
        const daimonState = join(state, 'daimon');
        let token: string | undefined;
        try {
          readFileSync(join(daimonState, 'identity.json'));
        } catch {
          token = (await client.createToken({ kind: 'join', ttl_ms: 600_000, uses: 1, name: 'demo' })).token;
        }
        // The demo's daimon also ticks two built-in monitors: their deterministic rules report with no API key.
        const daimon = createDaimon(
          { stateDir: daimonState, cp: url, token, hostname, version: VERSION, enable: ['edr', 'sre-health'] },
          { log: log.child({ role: 'daimon' }), secrets },
        );
        await daimon.start();
        const sims = opts.hosts > 0
          ? await startSimHosts({ count: opts.hosts, stateDir: join(state, 'sim'), cp: url, client, agentDir: simAgents, version: VERSION, log, createDaimon })
          : undefined;
        const jobsSims = bucket
          ? await startSimHosts({ count: opts.jobsHosts, stateDir: join(state, 'jobs'), cp: url, client, agentDir: simAgents, version: VERSION, log, createDaimon, jobs: { bucket, pollMs: 2000 } })
          : undefined;

        const extra = [sims && `${opts.hosts} simulated hosts`, jobsSims && `${opts.jobsHosts} jobs-mode hosts`].filter(Boolean).join(' and ');
        ctx.out.status(`okesu demo: control plane ${url}, host ${daimon.hostname()}${extra ? ` and ${extra}` : ''}; logs in ${logPath}`);
        // Name the binary the way it was started: in a fresh clone `okesu` is not on the PATH.
        const self = basename(process.argv[1] ?? 'okesu') === 'okesu' ? 'okesu' : `node ${relative(process.cwd(), process.argv[1] ?? 'dist/okesu.js')}`;
        ctx.out.status(`in another terminal: export OKESU_CONFIG=${join(cpDir, 'admin.yaml')}; ${self} hosts; ${self} tail --severity high`);
        // In a terminal the console takes it over: nothing else may write to it until the console quits.
        const interactive = !opts.json && process.stdin.isTTY === true && (ctx.deps.stdout as { isTTY?: boolean }).isTTY === true;
        const say = (msg: string): void => (interactive ? log.info(msg) : ctx.out.status(msg));
        let timer: NodeJS.Timeout | undefined;
        const stopAll = async (): Promise<void> => {
          if (timer) clearInterval(timer);
          await sims?.stop();
          await jobsSims?.stop();
          await daimon.stop();
          await cp.stop();
          log.flush();
        };

        const dispatch = async (): Promise<void> => {
          for (let i = 0; i < 100; i++) {
            const host = (await client.hosts()).find((h) => h.hostname === daimon.hostname());
            if (host?.connected) break;
            await new Promise((r) => setTimeout(r, 100));
          }
          const run = await client.createRun({ agent: opts.agent, host: daimon.hostname() });
          say(`dispatched ${opts.agent} to ${daimon.hostname()}: ${run.run_id}`);
        };
        const dispatchLater = (): void =>
          void dispatch().catch((err: unknown) => (interactive ? log.warn({ err }, 'demo dispatch failed') : ctx.out.printError(err)));

        if (interactive) {
          // The console opens at once and shows the first run arrive.
          dispatchLater();
          timer = opts.every ? setInterval(dispatchLater, opts.every) : undefined;
          const code = await openConsole(ctx, { config, logFile: join(state, 'console.log'), client });
          await stopAll();
          ctx.out.status(`okesu demo stopped; state in ${state}`);
          if (code !== 0) exitWith(code, `the console exited ${code}`);
          return;
        }

        const print = createFindingPrinter(ctx, {}, Boolean(opts.json));
        const stream = ctx.openStream(config, { kinds: ['finding'], onMessage: (m) => m.type === 'finding' && print(m.finding) });
        await dispatch();
        timer = opts.every ? setInterval(dispatchLater, opts.every) : undefined;
        ctx.out.status('following findings; Ctrl-C to stop');
        await untilStopped(ctx.deps);
        stream.close();
        print.flush();
        await stopAll();
      }),
    );
}
