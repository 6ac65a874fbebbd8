import { basename, join, relative, resolve } from 'node:path';
import { hostname as osHostname } from 'node:os';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { clientConfigSchema } from '../../protocol/client-config.js';
import { createOperatorClient } from '../../transport/operator-client.js';
import { VERSION } from '../../version.js';
import { action, untilStopped, usageError, type CliContext } from '../context.js';
import { durationArg } from '../options.js';
import { createLogger } from '../logger.js';
import { createFindingPrinter } from './tail.js';
import { parseListen, loadDefinitions } from './cp-serve.js';

/** `okesu demo`: an embedded CP and a daimon for this host in one process, following findings like `okesu tail`. */
export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('run an embedded control plane and a daimon for this host (ticking the edr and sre-health monitors), dispatch the built-in host-check agent and follow findings')
    .option('--state <dir>', 'demo state directory', './.okesu/demo')
    .option('--listen <host:port>', 'where the embedded CP listens (port 0 picks a free one)', '127.0.0.1:0')
    .option('--agent <name>', 'agent to dispatch', 'host-check')
    .option('--every <dur>', 'dispatch the agent again at this interval', durationArg)
    .option('--json', 'print findings as JSON lines')
    .action(
      action(ctx, async (opts: { state: string; listen: string; agent: string; every?: number; json?: boolean }, cmd: Command) => {
        const listen = parseListen(opts.listen);
        if (!listen) usageError(cmd, `--listen: expected HOST:PORT, got "${opts.listen}"`);
        const state = resolve(opts.state);
        mkdirSync(state, { recursive: true, mode: 0o700 });
        // Both servers log JSON to a file: stdout is for findings.
        const logPath = join(state, 'okesu.log');
        const log = createLogger({ name: 'okesu-demo', fd: openSync(logPath, 'a', 0o600) });
        const cpDir = join(state, 'cp');
        const definitions = await loadDefinitions([], (msg) => log.warn({ problem: msg }, 'agent file skipped'));
        const [{ createControlPlane }, { createDaimon }] = await Promise.all([import('../../cp/cp-server.js'), import('../../../daimon/daimon.js')]);
        const cp = createControlPlane(
          { stateDir: cpDir, host: listen.host, port: listen.port, version: VERSION, resolveDefinition: (n) => definitions.get(n) },
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
          { log: log.child({ role: 'daimon' }) },
        );
        await daimon.start();

        ctx.out.status(`okesu demo: control plane ${url}, host ${daimon.hostname()}; logs in ${logPath}`);
        // Name the binary the way it was started: in a fresh clone `okesu` is not on the PATH.
        const self = basename(process.argv[1] ?? 'okesu') === 'okesu' ? 'okesu' : `node ${relative(process.cwd(), process.argv[1] ?? 'dist/okesu.js')}`;
        ctx.out.status(`in another terminal: export OKESU_CONFIG=${join(cpDir, 'admin.yaml')}; ${self} hosts; ${self} tail --severity high`);
        const print = createFindingPrinter(ctx, {}, Boolean(opts.json));
        const stream = ctx.openStream(config, { kinds: ['finding'], onMessage: (m) => m.type === 'finding' && print(m.finding) });

        const dispatch = async (): Promise<void> => {
          for (let i = 0; i < 100; i++) {
            const host = (await client.hosts()).find((h) => h.hostname === daimon.hostname());
            if (host?.connected) break;
            await new Promise((r) => setTimeout(r, 100));
          }
          const run = await client.createRun({ agent: opts.agent, host: daimon.hostname() });
          ctx.out.status(`dispatched ${opts.agent} to ${daimon.hostname()}: ${run.run_id}`);
        };
        await dispatch();
        const timer = opts.every ? setInterval(() => void dispatch().catch((err: unknown) => ctx.out.printError(err)), opts.every) : undefined;
        ctx.out.status('following findings; Ctrl-C to stop');
        await untilStopped(ctx.deps);
        if (timer) clearInterval(timer);
        stream.close();
        await daimon.stop();
        await cp.stop();
        log.flush();
      }),
    );
}
