import { resolve } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import { action } from '../context.js';
import type { CliContext } from '../context.js';
import { createLogger } from '../logger.js';
import { durationArg, positiveIntArg } from '../options.js';
import { collectAgentInput, collectEnable, collectLabel, metricsFlags, metricsListenArg } from './daemon.js';
import { formatListen } from '../../../daimon/metrics/listen-address.js';
import type { MetricsListen } from '../../../daimon/metrics/listen-address.js';
import { OkesuError } from '../../errors.js';
import { parseCpUrl } from '../../../daimon/registration.js';
import { CONTAINMENT_MODES } from '../../../daimon/run/containment-modes.js';
import { TRANSPORT_MODES } from '../../../daimon/jobs/transport-modes.js';
import { runningExecutable } from '../../lifecycle/running-executable.js';
import { daemonArgs } from '../../lifecycle/install/daemon-args.js';
import { planInstall } from '../../lifecycle/install/install-plan.js';
import { formatInstallOutcome, type InstallResult } from '../../protocol/install-outcome.js';
import { runSteps, stepLine } from '../../lifecycle/install/plan-step.js';
import { DEFAULT_USER } from '../../lifecycle/units/unit-options.js';

interface InstallFlags {
  cp?: string;
  token?: string;
  bucket?: string;
  s3Endpoint?: string;
  s3Region?: string;
  prefix: string;
  init: 'systemd' | 'none';
  user: string;
  dryRun?: boolean;
  json?: boolean;
  wait: boolean;
  waitTimeout: number;
  hostname?: string;
  label: Record<string, string>;
  enable: string[];
  input: Record<string, Record<string, unknown>>;
  agents: string[];
  policy?: string;
  secretsFile?: string;
  spoolMaxRecords?: number;
  transport?: string;
  poll?: number;
  heartbeatEvery?: number;
  containment?: string;
  logLevel?: string;
  metricsListen?: MetricsListen;
  metricsAllowRemote?: boolean;
}

/** Registers `okesu install` (issue 15, docs/lifecycle.md "Install"): this executable as the host's daimon, registered, started, heartbeating. */
export function registerInstall(program: Command, ctx: CliContext): void {
  program
    .command('install')
    .description('install this okesu as the daimon of this host: copy the executable, register, start it under okesu supervise (systemd or detached) and wait for its first heartbeat; again on an installed host: nothing, or an upgrade')
    .option('--cp <url>', 'control plane URL (https://…)')
    .option('--token <join>', 'join token (or $OKESU_JOIN_TOKEN); used here, in memory, never written to a file or the unit')
    .option('--bucket <url>', 'jobs bucket s3://BUCKET[/PREFIX]: register through it without --cp, and poll it')
    .option('--s3-endpoint <url>', 'S3-compatible endpoint of the bucket')
    .option('--s3-region <region>', 'bucket region')
    .option('--prefix <dir>', 'root of everything written (packaging, tests); users are created and systemd asked only with /', '/')
    .addOption(new Option('--init <kind>', 'systemd: write and start the unit; none: start okesu supervise detached (hosts and containers without systemd)').choices(['systemd', 'none']).default('systemd'))
    .option('--user <name>', 'the account the daimon runs as under systemd (root: no own user, the sandbox stays)', DEFAULT_USER)
    .option('--dry-run', 'print every step and change nothing')
    .option('--json', 'print {outcome, hostname, version, state_dir} at the end')
    .option('--no-wait', 'do not wait for the first heartbeat')
    .option('--wait-timeout <duration>', 'how long to wait for the first heartbeat', durationArg, 120_000)
    // The daimon's own flags, passed to every start of it (the unit, or the detached supervisor).
    .option('--hostname <name>', 'hostname to register as (default: this machine’s)')
    .option('--label <k=v>', 'host label (repeatable)', collectLabel, {})
    .option('--enable <agents>', 'daemon agents to tick, comma separated, or all (repeatable)', collectEnable, [])
    .option('--input <agent.k=v>', 'an input of a ticked agent (repeatable)', collectAgentInput, {})
    .option('--agents <dir>', 'the host’s agent directory (repeatable)', (v: string, p: string[]) => [...p, v], [])
    .option('--policy <file>', 'host policy file')
    .option('--secrets-file <file>', 'provider keys and URLs as NAME=value lines (0600)')
    .option('--spool-max-records <n>', 'most un-acknowledged events kept before runs pause', positiveIntArg)
    .addOption(new Option('--transport <mode>', 'tunnel, jobs or auto').choices(TRANSPORT_MODES))
    .option('--poll <duration>', 'time between polls of the bucket', durationArg)
    .option('--heartbeat-every <n>', 'write a bucket heartbeat every N polls', positiveIntArg)
    .addOption(new Option('--containment <mode>', 'how a run\'s processes are kept together').choices(CONTAINMENT_MODES))
    .option('--metrics-listen <host:port>', 'the daimon\'s Prometheus /metrics and /health, plain HTTP without authentication, on loopback (okesu daemon --help)', metricsListenArg)
    .option('--metrics-allow-remote', 'let --metrics-listen take a non-loopback address')
    .addOption(new Option('--log-level <level>', 'the daimon\'s log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']))
    .action(
      action(ctx, async (opts: InstallFlags) => {
        const token = opts.token ?? ctx.deps.env.OKESU_JOIN_TOKEN;
        const { OKESU_JOIN_TOKEN: _token, ...env } = ctx.deps.env;
        if (opts.cp !== undefined) parseCpUrl(opts.cp);
        if (token !== undefined && opts.cp === undefined && opts.bucket === undefined) throw new OkesuError('OKS_ERR_CONFIG', 'a join token needs --cp URL or --bucket s3://… to register with');
        if (ctx.deps.entry === undefined) throw new OkesuError('OKS_ERR_INSTALL', 'cannot tell which file is the running okesu (run the okesu executable or dist/okesu.js)');
        const abs = (p: string | undefined): string | undefined => (p === undefined ? undefined : resolve(p));
        const metrics = metricsFlags(opts).metricsListen;
        const args = daemonArgs({
          ...opts, metricsListen: metrics && formatListen(metrics), agents: opts.agents.map((d) => resolve(d)), policy: abs(opts.policy), secretsFile: abs(opts.secretsFile),
        });
        const log = createLogger({ name: 'okesu-install', level: 'warn', fd: 2 });
        const plan = planInstall(
          {
            prefix: opts.prefix, init: opts.init, user: opts.user, source: runningExecutable(ctx.deps.entry), version: ctx.deps.version,
            register: {
              cp: opts.cp, token, hostname: opts.hostname, labels: opts.label,
              ...(opts.bucket !== undefined && { bucket: { url: opts.bucket, endpoint: opts.s3Endpoint, region: opts.s3Region } }),
            },
            daemonArgs: args, env, waitMs: opts.wait ? opts.waitTimeout : false,
          },
          log,
        );
        const head = `okesu install ${ctx.deps.version} under ${plan.layout.prefix} (init ${opts.init})`;
        if (opts.dryRun) {
          ctx.out.printLine(`${head}: dry run, would be ${plan.outcome}; nothing is written`);
          for (const s of plan.steps) ctx.out.printLine(stepLine(s, true));
          for (const n of plan.notes) ctx.out.printLine(`note: ${n}`);
          return;
        }
        ctx.out.status(`${head}:`);
        await runSteps(plan.steps, (line) => ctx.out.status(line));
        log.flush();
        for (const n of plan.notes) ctx.out.status(`note: ${n}`);
        const result: InstallResult = { outcome: plan.outcome, hostname: plan.hostname() ?? '', version: ctx.deps.version, state_dir: plan.layout.stateDir };
        if (opts.json) ctx.out.printJson(result);
        else ctx.out.printLine(formatInstallOutcome(result));
      }),
    );
}
