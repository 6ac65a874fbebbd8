import { resolve } from 'node:path';
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { action, exitWith, untilStopped } from '../context.js';
import type { CliContext } from '../context.js';
import { createLogger } from '../logger.js';
import type { LogFormat } from '../pretty-log.js';
import { durationArg, parseInput, positiveIntArg, logFormatOption } from '../options.js';
import { CONTAINMENT_MODES } from '../../../daimon/run/containment-modes.js';
import type { ContainmentMode } from '../../../daimon/run/containment-modes.js';
import type { DaimonOptions } from '../../../daimon/daimon.js';
import { TRANSPORT_MODES } from '../../../daimon/jobs/transport-modes.js';
import type { TransportMode } from '../../../daimon/jobs/transport-modes.js';
import { formatListen, isLoopback, parseMetricsListen } from '../../../daimon/metrics/listen-address.js';
import type { MetricsListen } from '../../../daimon/metrics/listen-address.js';
import { OkesuError } from '../../errors.js';
import { parseBucketUrl } from '../../transport/bucket/bucket-url.js';
import { isLabelKey, LABEL_KEY_RULE } from '../../protocol/labels.js';
import { daemonArgs } from '../../lifecycle/install/daemon-args.js';
import { DEFAULT_EXECUTABLE, DEFAULT_STATE_DIR, DEFAULT_USER } from '../../lifecycle/units/unit-options.js';
import { UNIT_KINDS, unitText } from '../../lifecycle/units/unit-text.js';
import type { UnitKind } from '../../lifecycle/units/unit-text.js';
import { runningExecutable } from '../../lifecycle/running-executable.js';
import { SUPERVISOR_ENV, UPGRADE_RESTART_EXIT_CODE } from '../../../daimon/lifecycle/state-layout.js';

/** Exit code when the CP refused this host for good (EX_CONFIG): restarting cannot help, an operator must act. */
export const FATAL_EXIT_CODE = 78;

/** Log levels `--log-level` accepts. */
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

interface DaemonFlags {
  cp?: string;
  token?: string;
  state: string;
  hostname?: string;
  agents: string[];
  label: Record<string, string>;
  spoolMaxRecords?: number;
  containment: ContainmentMode;
  logLevel: string;
  logFormat: LogFormat;
  policy?: string;
  enable: string[];
  input: Record<string, Record<string, unknown>>;
  secretsFile?: string;
  transport?: TransportMode;
  bucket?: string;
  s3Endpoint?: string;
  s3Region?: string;
  poll?: number;
  heartbeatEvery?: number;
  metricsListen?: MetricsListen;
  metricsAllowRemote?: boolean;
  printUnit?: boolean;
  init: UnitKind;
  user: string;
}

/** Longest poll × heartbeat-every a heartbeat may announce (a day). */
const MAX_HEARTBEAT_INTERVAL_MS = 86_400_000;

/** The jobs-mode part of the flags, checked: the bucket's location and the poll settings. */
function jobsFlags(opts: DaemonFlags): Pick<DaimonOptions, 'transport' | 'bucket' | 'pollMs' | 'heartbeatEvery'> {
  if (opts.bucket === undefined) {
    const stray = [opts.s3Endpoint !== undefined && '--s3-endpoint', opts.s3Region !== undefined && '--s3-region', opts.poll !== undefined && '--poll', opts.heartbeatEvery !== undefined && '--heartbeat-every'].filter(Boolean);
    if (stray.length > 0) throw new OkesuError('OKS_ERR_CONFIG', `${stray.join(', ')} apply to the jobs bucket: give --bucket s3://BUCKET[/PREFIX] too`);
    return opts.transport === undefined ? {} : { transport: opts.transport };
  }
  if ((opts.poll ?? 10_000) * (opts.heartbeatEvery ?? 1) > MAX_HEARTBEAT_INTERVAL_MS) {
    throw new OkesuError('OKS_ERR_CONFIG', '--poll × --heartbeat-every is at most a day: the CP counts a host offline after 12 heartbeat intervals');
  }
  return {
    ...(opts.transport !== undefined && { transport: opts.transport }),
    bucket: parseBucketUrl(opts.bucket, { ...(opts.s3Endpoint !== undefined && { endpoint: opts.s3Endpoint }), ...(opts.s3Region !== undefined && { region: opts.s3Region }) }),
    ...(opts.poll !== undefined && { pollMs: opts.poll }),
    ...(opts.heartbeatEvery !== undefined && { heartbeatEvery: opts.heartbeatEvery }),
  };
}

/** Commander parser of `--metrics-listen HOST:PORT`. */
export function metricsListenArg(value: string): MetricsListen {
  try {
    return parseMetricsListen(value);
  } catch (err) {
    throw new InvalidArgumentError(`${(err as Error).message}.`);
  }
}

/** The metrics address, checked: loopback, unless `--metrics-allow-remote` says the unauthenticated endpoint may face a network. */
export function metricsFlags(opts: { metricsListen?: MetricsListen; metricsAllowRemote?: boolean }): Pick<DaimonOptions, 'metricsListen'> {
  if (opts.metricsListen === undefined) {
    if (opts.metricsAllowRemote) throw new OkesuError('OKS_ERR_CONFIG', '--metrics-allow-remote applies to --metrics-listen: give it too');
    return {};
  }
  if (!opts.metricsAllowRemote && !isLoopback(opts.metricsListen.host)) {
    throw new OkesuError('OKS_ERR_CONFIG', `--metrics-listen ${opts.metricsListen.host} is not a loopback address: the endpoint has no authentication; add --metrics-allow-remote to serve it there anyway`);
  }
  return { metricsListen: opts.metricsListen };
}

/** Commander collector for repeatable `--enable a,b`. */
export function collectEnable(value: string, previous: string[]): string[] {
  const names = value.split(',').map((n) => n.trim()).filter((n) => n !== '');
  if (names.length === 0) throw new InvalidArgumentError('expected agent names separated by commas, or all.');
  return [...previous, ...names];
}

/** Commander collector for repeatable `--input AGENT.KEY=VALUE`: inputs of the ticked agents, by agent. */
export function collectAgentInput(value: string, previous: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>> {
  const dot = value.indexOf('.');
  const eq = value.indexOf('=');
  if (dot <= 0 || eq < dot + 2) throw new InvalidArgumentError('expected AGENT.KEY=VALUE, e.g. sre-health.disk_full_pct=85.');
  const agent = value.slice(0, dot);
  const [key, parsed] = parseInput(value.slice(dot + 1));
  return { ...previous, [agent]: { ...previous[agent], [key]: parsed } };
}

/** Default state directory: /var/lib/okesu for root (the systemd unit), ./.okesu/daimon otherwise. */
export function defaultStateDir(): string {
  return process.getuid?.() === 0 ? '/var/lib/okesu' : resolve('.okesu/daimon');
}

/** Commander collector for repeatable `--label k=v`. */
export function collectLabel(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  const key = value.slice(0, eq);
  if (eq <= 0 || !isLabelKey(key)) throw new InvalidArgumentError(`expected key=value, the key ${LABEL_KEY_RULE}.`);
  if (value.length - eq - 1 > 256) throw new InvalidArgumentError('label values are at most 256 characters.');
  return { ...previous, [key]: value.slice(eq + 1) };
}

/** Registers `okesu daemon` (SPEC §2.2): the daimon of this host. */
export function registerDaemon(program: Command, ctx: CliContext): void {
  program
    .command('daemon')
    .description('run the daimon of this host: register once with --token, then keep a tunnel to the CP (or poll a jobs bucket) and execute runs')
    .option('--cp <url>', 'control plane URL (https://…); remembered after registration')
    .option('--token <join>', 'join token, only for the first start (or $OKESU_JOIN_TOKEN, which keeps it out of ps)')
    .option('--state <dir>', 'state directory: identity, key, event spool', defaultStateDir())
    .option('--hostname <name>', 'hostname to register as (default: this machine’s)')
    .option('--agents <dir>', 'this host’s agent directory, searched before the built-ins (repeatable)', (v: string, p: string[]) => [...p, v], [])
    .option('--label <k=v>', 'host label sent to the CP (repeatable)', collectLabel, {})
    .option('--policy <file>', 'host policy file: tools, commands, paths and agents this host refuses (default /etc/okesu/policy.yaml when present)')
    .option('--enable <agents>', 'mode: daemon agents to tick, comma separated, or all (repeatable; default none)', collectEnable, [])
    .option('--input <agent.k=v>', 'an input of a ticked agent, e.g. sre-health.disk_full_pct=85 (repeatable)', collectAgentInput, {})
    .option('--secrets-file <file>', 'provider keys and URLs as NAME=value lines (mode 0600 or stricter); wins over the environment')
    .option('--spool-max-records <n>', 'most un-acknowledged events kept before runs pause', positiveIntArg)
    .addOption(new Option('--transport <mode>', 'tunnel, jobs (the bucket only) or auto (the tunnel, the bucket while it is down); default auto with a CP URL and --bucket, jobs with --bucket alone, else tunnel').choices(TRANSPORT_MODES))
    .option('--bucket <url>', 'jobs bucket s3://BUCKET[/PREFIX] shared with the CP (credentials from the AWS environment: AWS_ACCESS_KEY_ID, AWS_PROFILE, instance role)')
    .option('--s3-endpoint <url>', 'S3-compatible endpoint (e.g. http://127.0.0.1:7480); default AWS S3')
    .option('--s3-region <region>', 'bucket region (default $AWS_REGION, else us-east-1)')
    .option('--poll <duration>', 'time between polls of the bucket (default 10s)', durationArg)
    .option('--heartbeat-every <n>', 'write a bucket heartbeat every N polls (default 1)', positiveIntArg)
    .option('--metrics-listen <host:port>', 'serve Prometheus /metrics and /health over plain HTTP, without authentication, at this loopback address (e.g. 127.0.0.1:9465; port 0 picks one, logged); default off', metricsListenArg)
    .option('--metrics-allow-remote', 'let --metrics-listen take a non-loopback address (e.g. 0.0.0.0:9464): anyone who reaches it reads the metrics')
    .addOption(
      new Option('--containment <mode>', 'how a run\'s processes are kept together and ended with it: a cgroup v2 per run, or a subreaper and a process sweep')
        .choices(CONTAINMENT_MODES).default('auto'),
    )
    .addOption(new Option('--log-level <level>', 'log level (JSON logs on stdout)').choices(LOG_LEVELS).default('info'))
    .addOption(logFormatOption())
    .option('--print-unit', 'print the hardened init unit that runs this daimon under okesu supervise, and exit (state default /var/lib/okesu)')
    .addOption(new Option('--init <kind>', 'with --print-unit: the init system (launchd: verified on Linux only)').choices(UNIT_KINDS).default('systemd'))
    .option('--user <name>', 'with --print-unit: the account the daimon runs as (root: no own user, the sandbox stays)', DEFAULT_USER)
    .addHelpText('after', [
      '',
      'Metrics (off by default): --metrics-listen 127.0.0.1:9465 serves GET /metrics (Prometheus text: spool, events sent',
      'and acknowledged, tunnel, runs, collector durations and failures, findings, process) and GET /health over plain',
      'HTTP without authentication. Loopback only unless --metrics-allow-remote. Names and labels: docs/metrics.md.',
    ].join('\n'))
    .action(
      action(ctx, async (opts: DaemonFlags, cmd: Command) => {
        if (opts.printUnit) {
          if (opts.token !== undefined) throw new OkesuError('OKS_ERR_CONFIG', '--print-unit takes no --token: okesu install registers the host, the unit never holds the token');
          metricsFlags(opts);
          const stateDir = cmd.getOptionValueSource('state') === 'default' ? DEFAULT_STATE_DIR : resolve(opts.state);
          const args = daemonArgs({ ...opts, metricsListen: opts.metricsListen && formatListen(opts.metricsListen), agents: opts.agents.map((d) => resolve(d)), ...(opts.policy !== undefined && { policy: resolve(opts.policy) }), ...(opts.secretsFile !== undefined && { secretsFile: resolve(opts.secretsFile) }) });
          ctx.deps.stdout.write(unitText(opts.init, { executable: DEFAULT_EXECUTABLE, stateDir, user: opts.user, daemonArgs: args, version: ctx.deps.version }));
          return;
        }
        const jobs = jobsFlags(opts);
        const metrics = metricsFlags(opts);
        // Secrets first, before anything is logged or started: taken out of the environment into memory (SPEC §11).
        const [{ takeProviderSecrets }, { createRedactor }] = await Promise.all([
          import('../../../daimon/secrets/take-secrets.js'),
          import('../../../daimon/secrets/redact.js'),
        ]);
        const taken = takeProviderSecrets({ env: ctx.deps.env, ...(opts.secretsFile !== undefined && { file: resolve(opts.secretsFile) }) });
        const token = opts.token ?? ctx.deps.env.OKESU_JOIN_TOKEN;
        delete ctx.deps.env.OKESU_JOIN_TOKEN;
        const log = createLogger({ name: 'okesu-daimon', level: opts.logLevel, scrub: createRedactor(taken.store).text, format: opts.logFormat });
        if (taken.overridden.length > 0) log.warn({ names: taken.overridden }, 'set in the environment and the secrets file: the file wins');
        log.info({ from_file: taken.fromFile, from_env: taken.fromEnv }, 'provider settings taken into memory and out of the environment');
        let fatal: { code: string; message: string } | undefined;
        let restart = false;
        let onFatal: () => void = () => undefined;
        const fatalSeen = new Promise<void>((res) => (onFatal = res));
        const [{ createDaimon }, { loadAgentCatalogInChild }] = await Promise.all([
          import('../../../daimon/daimon.js'),
          import('../../../daimon/agent-catalog-child.js'),
        ]);
        const entry = ctx.deps.entry;
        const daimon = createDaimon(
          {
            stateDir: resolve(opts.state), cp: opts.cp, token, hostname: opts.hostname,
            agentDirs: opts.agents.map((d) => resolve(d)), labels: opts.label, spoolMaxRecords: opts.spoolMaxRecords, version: ctx.deps.version,
            ...(opts.policy !== undefined && { policyPath: resolve(opts.policy) }), enable: opts.enable, agentInputs: opts.input,
            containment: opts.containment, ...jobs, ...metrics,
            supervised: ctx.deps.env[SUPERVISOR_ENV] !== undefined && ctx.deps.env[SUPERVISOR_ENV] !== '',
            ...(entry !== undefined && { executable: runningExecutable(entry).file }),
          },
          {
            log,
            secrets: taken.store,
            // Run as the binary, the agents are parsed in a child of it; in-process (tests) they load here.
            ...(entry !== undefined && { loadCatalog: (dirs: string[]) => loadAgentCatalogInChild(entry, dirs) }),
            onFatal: (code, message) => {
              fatal ??= { code, message };
              onFatal();
            },
            // Same way out as a fatal refusal, with the code that tells the supervisor to start bin/current now.
            onUpgradeRestart: () => {
              restart = true;
              onFatal();
            },
          },
        );
        try {
          await daimon.start();
        } finally {
          log.flush();
        }
        await untilStopped(ctx.deps, fatalSeen);
        await daimon.stop();
        log.flush();
        if (fatal) {
          ctx.out.status(`okesu: ${fatal.code}: ${fatal.message}`);
          exitWith(FATAL_EXIT_CODE, fatal.message);
        }
        if (restart) exitWith(UPGRADE_RESTART_EXIT_CODE, 'restarting into the upgraded version');
      }),
    );
}
