import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { builtinAgentsDir } from '../../specs/builtin-agents-dir.js';
import { formatSpecError } from '../../specs/spec-error.js';
import { VERSION } from '../../version.js';
import { action, untilStopped, usageError, type CliContext } from '../context.js';
import { durationArg, positiveIntArg, logFormatOption } from '../options.js';
import { InvalidArgumentError, Option } from 'commander';
import { MAX_HOST_CERT_TTL_MS, MIN_HOST_CERT_TTL_MS } from '../../protocol/cert-expiry.js';
import { formatDuration } from '../../protocol/duration.js';
import { createLogger } from '../logger.js';
import type { LogFormat } from '../pretty-log.js';
import { registerCpBackup } from './cp-backup.js';
import { registerCpClusterKey } from './cp-cluster-key.js';
import { registerCpReplicas } from './cp-replicas.js';
import { parseBucketUrl } from '../../transport/bucket/bucket-url.js';
import { DEFAULT_KEEP_RELEASES } from '../../cp/releases/release-store.js';
import { readReleaseKeys } from './release-key-arg.js';

/** Splits `HOST:PORT` (IPv6 as `[::]:8443`). */
export function parseListen(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/**
 * `--metrics-listen HOST:PORT`: like `--listen`, except that the host must be named — an unauthenticated listener is
 * never bound to every interface by leaving it out. Null when malformed.
 */
export function parseMetricsListen(text: string): { host: string; port: number } | null {
  const parsed = /^\s*:/.test(text) ? undefined : parseListen(text);
  return parsed ?? null;
}

/** Loads agent definitions the CP sends with dispatches: `--agents` dirs first, then the built-ins. */
export async function loadDefinitions(dirs: readonly string[], warn: (msg: string) => void): Promise<Map<string, string>> {
  const { loadAgentCatalog } = await import('../../specs/agent-catalog.js');
  const catalog = await loadAgentCatalog([...dirs, builtinAgentsDir()]);
  for (const e of catalog.errors) warn(formatSpecError(e));
  const texts = new Map<string, string>();
  for (const [name, spec] of catalog.agents) texts.set(name, readFileSync(spec.source, 'utf8'));
  return texts;
}

const collect = (value: string, prev: string[]): string[] => [...prev, value];

/** Commander parser for `--host-cert-ttl`: a duration from 1h to 3650d. */
export function hostCertTtlArg(value: string): number {
  const ms = durationArg(value);
  if (ms < MIN_HOST_CERT_TTL_MS || ms > MAX_HOST_CERT_TTL_MS) {
    throw new InvalidArgumentError(`expected a duration from ${formatDuration(MIN_HOST_CERT_TTL_MS)} to ${formatDuration(MAX_HOST_CERT_TTL_MS)}, got ${formatDuration(ms)}.`);
  }
  return ms;
}

interface CpServeOptions {
  state: string;
  listen: string;
  heartbeatInterval: number;
  reconnectRate: number;
  hostCertTtl: number;
  san: string[];
  advertiseUrl?: string;
  agents: string[];
  bucket?: string;
  s3Endpoint?: string;
  s3Region?: string;
  bucketScan: number;
  releaseKey: string[];
  keepReleases: number;
  logLevel: string;
  logFormat: LogFormat;
  store?: string;
  bus?: string;
  replicaId?: string;
  clusterKeyFile?: string;
  replicaUrl?: string;
  leaseTtl?: number;
  trustedProxy: string[];
  metricsListen?: string;
}

/** `okesu cp serve`: the control plane (and `cp backup` / `cp restore` beside it). */
export function registerCpServe(program: Command, ctx: CliContext): void {
  const cp = program.command('cp').description('control plane commands');
  cp.command('serve')
    .description('run the control plane: daimon tunnels and the operator API on one HTTPS port')
    .option('--state <dir>', 'state directory (CA, store, admin.yaml)', './.okesu/cp')
    .option('--listen <host:port>', 'address to listen on', '0.0.0.0:8443')
    .option('--heartbeat-interval <dur>', 'heartbeat interval told to daimons', durationArg, 5000)
    .option('--reconnect-rate <n>', 'tunnel handshakes per second daimons are paced to after a CP restart', positiveIntArg, 150)
    .addOption(
      new Option('--host-cert-ttl <dur>', 'lifetime of the host certificates the CP issues; daimons renew at a third left (1h to 3650d)')
        .argParser(hostCertTtlArg)
        .default(365 * 86_400_000, '365d'),
    )
    .option('--san <name>', 'extra DNS name or IP for the server certificate (repeatable)', collect, [])
    .option('--advertise-url <url>', 'CP URL written into admin.yaml')
    .option('--agents <dir>', 'agent definitions sent with dispatches (repeatable; built-ins come last)', collect, [])
    .option('--bucket <url>', 'jobs bucket shared with hosts that poll it: s3://BUCKET[/PREFIX] (credentials from the AWS SDK default chain)')
    .option('--s3-endpoint <url>', 'S3-compatible endpoint of --bucket (default AWS S3)')
    .option('--s3-region <region>', 'region of --bucket (default AWS_REGION, else us-east-1)')
    .option('--bucket-scan <dur>', 'time between two scans of the bucket', durationArg, 5000)
    .option('--release-key <key|file>', 'release public key ed25519:… (or a file of them, one a line) uploads must be signed by; hosts learn them at registration (repeatable)', collect, [])
    .option('--keep-releases <n>', 'how many uploaded releases to keep (older ones are deleted unless a rollout uses them)', positiveIntArg, DEFAULT_KEEP_RELEASES)
    .option('--store <url>', 'a store shared by the replicas of a cluster: postgres://USER@HOST:PORT/DB (default: SQLite in --state)')
    .option('--bus <url>', 'the cluster\'s bus: nats://HOST:PORT (with --store)')
    .option('--replica-id <id>', 'this replica\'s name in the cluster, 1-64 of A-Z a-z 0-9 _ - (default: the machine\'s hostname)')
    .option('--cluster-key-file <file>', 'the key sealing the cluster\'s CA and server keys in the store (okesu cp cluster-key; the same file on every replica)')
    .option('--replica-url <url>', 'where the other replicas reach this one (default https://LISTEN-HOST:PORT)')
    .option('--trusted-proxy <address>', 'an address that carries many clients\' connections (the load balancer in front of the replicas): its failed authentications are not limited per address (repeatable)', collect, [])
    .option('--lease-ttl <dur>', 'how long the leader\'s lease lasts unrenewed: a dead leader is replaced after at most this (renewed every fifth of it; default 10s)', durationArg)
    .option('--metrics-listen <host:port>', 'also serve /metrics, /v1/health and /v1/ready over plain HTTP WITHOUT authentication: bind it to loopback or a scrape network (off by default; /metrics on the HTTPS port needs a viewer token)')
    .option('--log-level <level>', 'log level', 'info')
    .addOption(logFormatOption())
    .addHelpText('after', '\nOne CP: SQLite in --state. Several replicas behind a TCP load balancer: on each,\n  okesu cp serve --store postgres://… --bus nats://… --cluster-key-file FILE --replica-id ID --san BALANCER --advertise-url https://BALANCER:PORT\n(docs/scaling.md, examples/cluster/).')
    .action(
      action(ctx, async (opts: CpServeOptions, cmd: Command) => {
        const listen = parseListen(opts.listen);
        if (!listen) usageError(cmd, `--listen: expected HOST:PORT, got "${opts.listen}"`);
        const metricsListen = opts.metricsListen === undefined ? undefined : parseMetricsListen(opts.metricsListen);
        if (metricsListen === null) usageError(cmd, `--metrics-listen: expected HOST:PORT with the address named (127.0.0.1:9464 for loopback), got "${opts.metricsListen}"`);
        if (metricsListen && listen && metricsListen.port !== 0 && metricsListen.port === listen.port) usageError(cmd, `--metrics-listen: port ${metricsListen.port} is --listen's port already`);
        if (!opts.bucket && (opts.s3Endpoint !== undefined || opts.s3Region !== undefined)) usageError(cmd, '--s3-endpoint and --s3-region go with --bucket');
        if (opts.store !== undefined && !/^postgres(ql)?:\/\//.test(opts.store)) usageError(cmd, `--store: expected postgres://…, got "${opts.store}"`);
        if (opts.bus !== undefined && !/^nats:\/\//.test(opts.bus)) usageError(cmd, `--bus: expected nats://HOST:PORT, got "${opts.bus}"`);
        if ((opts.store === undefined) !== (opts.bus === undefined)) usageError(cmd, '--store and --bus go together (a cluster needs both)');
        if (opts.store !== undefined && opts.clusterKeyFile === undefined) usageError(cmd, '--store needs --cluster-key-file (make one with: okesu cp cluster-key --out FILE)');
        if (opts.replicaId !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(opts.replicaId)) usageError(cmd, `--replica-id: 1-64 of A-Z a-z 0-9 _ -, got "${opts.replicaId}"`);
        const bucket = opts.bucket === undefined ? undefined : parseBucketUrl(opts.bucket, { endpoint: opts.s3Endpoint, region: opts.s3Region });
        const releaseKeys = opts.releaseKey.flatMap(readReleaseKeys);
        const log = createLogger({ name: 'okesu-cp', level: opts.logLevel, format: opts.logFormat });
        let definitions = await loadDefinitions(opts.agents, (msg) => log.warn({ problem: msg }, 'agent file skipped'));
        // Loaded on use: other commands (above all the daimon) never evaluate the CP, its store and the X.509 toolkit.
        const { createControlPlane } = await import('../../cp/cp-server.js');
        const server = createControlPlane(
          {
            stateDir: opts.state, host: listen.host, port: listen.port, heartbeatIntervalMs: opts.heartbeatInterval, reconnectRatePerS: opts.reconnectRate,
            hostCertTtlMs: opts.hostCertTtl, sans: opts.san, advertiseUrl: opts.advertiseUrl, version: VERSION, resolveDefinition: (name) => definitions.get(name),
            agentLibrary: () => definitions, bucket, bucketScanMs: opts.bucketScan, releaseKeys, keepReleases: opts.keepReleases,
            store: opts.store, bus: opts.bus, replicaId: opts.replicaId, clusterKeyFile: opts.clusterKeyFile, replicaUrl: opts.replicaUrl,
            ...(opts.trustedProxy.length > 0 && { authLimit: { trusted: opts.trustedProxy } }),
            ...(metricsListen && { metricsListen }),
            ...(opts.leaseTtl !== undefined && { leaseTiming: { ttlMs: opts.leaseTtl, renewMs: Math.max(100, Math.floor(opts.leaseTtl / 5)) } }),
          },
          { log },
        );
        const { url } = await server.start();
        ctx.out.status(`okesu control plane on ${url}; admin context: ${opts.state}/admin.yaml`);
        const reload = (): void => {
          void loadDefinitions(opts.agents, (msg) => log.warn({ problem: msg }, 'agent file skipped')).then((d) => {
            definitions = d;
            log.info({ agents: d.size }, 'agent definitions reloaded');
          });
        };
        process.on('SIGHUP', reload);
        await untilStopped(ctx.deps);
        process.off('SIGHUP', reload);
        await server.stop();
        log.flush();
      }),
    );
  registerCpBackup(cp, ctx);
  registerCpClusterKey(cp, ctx);
  registerCpReplicas(cp, ctx);
}
