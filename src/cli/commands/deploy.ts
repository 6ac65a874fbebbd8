import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import type { DeployProgress, DeploySummary } from '../../deploy/deploy-fleet.js';
import type { DeployHostResult } from '../../deploy/deploy-host.js';
import { parseTarget, type SshTarget } from '../../deploy/target.js';
import { hostnameSchema } from '../../protocol/api.js';
import { formatUtcSeconds } from '../format.js';
import { action, exitWith, usageError } from '../context.js';
import type { CliContext } from '../context.js';
import { configOption, durationArg, positiveIntArg } from '../options.js';
import { lineText, toned, type Line } from '../output.js';
import { createProgressBoard } from '../progress-board.js';

interface DeployFlags {
  identity?: string;
  knownHosts?: string;
  init: 'systemd' | 'none';
  prefix: string;
  parallel: number;
  wait?: boolean;
  waitTimeout: number;
  executable?: string;
  hostname?: string;
  json?: boolean;
  config?: string;
}

/** The words after `--` on the command line (commander drops the `--` itself from the operands). */
function wordsAfterDoubleDash(cmd: Command): string[] {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  const raw = (root as Command & { rawArgs?: string[] }).rawArgs ?? [];
  const at = raw.indexOf('--');
  return at < 0 ? [] : raw.slice(at + 1);
}

/** A target's final line: ✓/✗, the target, the hostname, and the outcome or the error. */
export function resultLine(r: DeployHostResult): Line {
  if (r.ok) {
    const online = r.online === true ? ', online' : '';
    return [toned('✓', 'ok'), ` ${r.target}  ${r.hostname ?? '-'}  ${r.outcome ?? ''} ${r.version ?? ''}${online}`];
  }
  // The message names the target first (deployHost makes sure of it).
  return [toned('✗', 'error'), ` ${r.error?.message ?? `${r.target}: failed`}`];
}

/** The summary line: how many of how many, by outcome, and the failures by kind. */
export function summaryLine(s: DeploySummary): Line {
  const ok = s.total - s.failed;
  const parts = [`${s.installed} installed`, `${s.upgraded} upgraded`, `${s.unchanged} unchanged`, `${s.failed} failed`];
  const kinds = Object.entries(s.failures).map(([k, n]) => `${k.replace(/_/g, ' ')} ${n}`).join(', ');
  return [toned(s.failed === 0 ? 'ok' : 'FAILED', s.failed === 0 ? 'ok' : 'error'), ` deployed ${ok} of ${s.total}: ${parts.join(', ')}${kinds ? ` (${kinds})` : ''}`];
}

const PHASE_WORDS: Record<string, string> = {
  connecting: 'connecting', probing: 'checking OS, arch and init', preparing: 'asking the CP for a join token',
  uploading: 'uploading the executable', installing: 'running okesu install', reporting: 'reporting to the CP', waiting: 'waiting for the host to be online',
};

/** Registers `okesu deploy TARGET… [flags] [-- install flags]`, `deploy keys` and `deploy forget-key TARGET`. */
export function registerDeploy(program: Command, ctx: CliContext): void {
  const defaultUser = ctx.deps.env.USER || 'root';
  const deploy = program
    .command('deploy')
    .description('install okesu on hosts over SSH (admin): check the platform, upload the executable, run okesu install with a single-use join token')
    .argument('<targets...>', '[user@]HOST[:PORT] ([user@][v6]:PORT for IPv6); the user defaults to $USER')
    .option('--identity <key>', 'SSH private key (default: the ssh-agent, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa; passphrase from $OKESU_SSH_PASSPHRASE)')
    .option('--known-hosts <file>', 'check host keys against this OpenSSH known_hosts file instead of the keys the CP pinned')
    .addOption(new Option('--init <mode>', 'systemd (a unit) or none (okesu supervise, for hosts and containers without systemd)').choices(['systemd', 'none']).default('systemd'))
    .option('--prefix <dir>', 'root of everything okesu install writes on the target', '/')
    .addOption(new Option('--parallel <n>', 'hosts deployed at the same time').argParser(positiveIntArg).default(8))
    .option('--wait', 'wait until the CP shows each host online')
    .addOption(new Option('--wait-timeout <duration>', 'how long --wait waits per host').argParser(durationArg).default(120_000, '2m'))
    .option('--executable <file>', 'the okesu executable to upload (default: this single executable, or okesu-linux-x64 beside this bundle)')
    .option('--hostname <name>', 'register as this name instead of what the host\'s hostname prints (one target only)', (v: string) => {
      const parsed = hostnameSchema.safeParse(v);
      if (!parsed.success) throw new InvalidArgumentError('expected a hostname (letters, digits, dashes, dots).');
      return parsed.data;
    })
    .option('--json', 'print the per-host results and the summary as JSON')
    .addOption(configOption())
    .addHelpText('after', [
      '',
      'Words after -- go to okesu install on each host, e.g. -- --label env=prod.',
      'Host keys: pinned by the CP on the first successful deploy of a target (or checked against --known-hosts);',
      'a changed key refuses the deploy before anything is uploaded (okesu deploy forget-key TARGET accepts a new one).',
      'Exit code 1 when any host failed.',
      '',
      'Examples:',
      '  okesu deploy root@web-01 root@web-02:2222 --identity ~/.ssh/deploy_ed25519 --wait',
      '  okesu deploy root@ci-runner --init none --prefix /opt/okesu-root',
    ].join('\n'))
    .action(
      action(ctx, async (operands: string[], opts: DeployFlags, cmd: Command) => {
        const extraArgs = wordsAfterDoubleDash(cmd);
        const words = operands.slice(0, operands.length - extraArgs.length);
        if (words.length === 0) usageError(cmd, 'name at least one target before --');
        const targets: SshTarget[] = [];
        for (const w of words) {
          try {
            targets.push(parseTarget(w, defaultUser));
          } catch (err) {
            usageError(cmd, (err as Error).message);
          }
        }
        if (opts.hostname !== undefined && targets.length !== 1) usageError(cmd, '--hostname applies to a single target');
        const dup = targets.find((t, i) => targets.findIndex((u) => u.text === t.text) !== i);
        if (dup) usageError(cmd, `${dup.text} is named twice`);

        const { deployExecutable } = await import('../../deploy/executable.js');
        const executable = deployExecutable(opts.executable, ctx.deps.entry);
        const { config } = ctx.connect(opts.config);
        const { runDeploy } = await import('../../deploy/run-deploy.js');
        // On a terminal, one line per host redrawn in place (stderr), results after; in a pipe, a line per step as it
        // happens (stderr) and each host's result as it ends (stdout).
        const stderr = ctx.deps.stderr as typeof ctx.deps.stderr & { isTTY?: boolean; columns?: number };
        const board = stderr.isTTY === true ? createProgressBoard(stderr) : undefined;
        const progress = (p: DeployProgress): void => {
          if (board) board.set(p.target.text, 'phase' in p ? `${p.target.text}  ${PHASE_WORDS[p.phase] ?? p.phase}…` : lineText(resultLine(p.result)));
          else if ('phase' in p) ctx.out.status(`${p.target.text}  ${PHASE_WORDS[p.phase] ?? p.phase}…`);
          else if (!opts.json) ctx.out.printLine(resultLine(p.result));
        };
        const { results, summary } = await runDeploy({
          targets, init: opts.init, prefix: opts.prefix, parallel: opts.parallel, wait: opts.wait === true, waitTimeoutMs: opts.waitTimeout,
          executable, extraArgs, env: ctx.deps.env, config,
          ...(opts.identity !== undefined && { identity: opts.identity }),
          ...(opts.knownHosts !== undefined && { knownHosts: opts.knownHosts }),
          ...(opts.hostname !== undefined && { hostname: opts.hostname }),
        }, progress);
        board?.clear();
        if (opts.json) ctx.out.printJson({ results, summary });
        else {
          if (board) for (const r of results) ctx.out.printLine(resultLine(r));
          ctx.out.printLine(summaryLine(summary));
        }
        if (summary.failed > 0) exitWith(1, `${summary.failed} of ${summary.total} hosts failed`);
      }),
    );

  deploy
    .command('keys')
    .description('list the SSH host keys the CP pinned, one per target')
    .option('--json', 'print them as JSON')
    .addOption(configOption())
    .action(
      action(ctx, async (opts: { json?: boolean; config?: string }) => {
        const { listHostKeys } = await import('../../deploy/run-deploy.js');
        const keys = await listHostKeys(ctx.connect(opts.config).config);
        if (opts.json) ctx.out.printJson(keys);
        else ctx.out.printTable(keys, [
          { header: 'TARGET', value: (k) => k.target },
          { header: 'FINGERPRINT', value: (k) => k.fingerprint },
          { header: 'PINNED', value: (k) => formatUtcSeconds(k.pinned_at) },
          { header: 'BY', value: (k) => k.pinned_by, flex: true },
        ]);
      }),
    );

  deploy
    .command('forget-key')
    .description('forget the SSH host key pinned for a target, so the next deploy pins the key it presents (a reinstalled host)')
    .argument('<target>', '[user@]HOST[:PORT], as deployed')
    .addOption(configOption())
    .action(
      action(ctx, async (text: string, opts: { config?: string }, cmd: Command) => {
        let target: SshTarget;
        try {
          target = parseTarget(text, defaultUser);
        } catch (err) {
          usageError(cmd, (err as Error).message);
        }
        const { forgetHostKey } = await import('../../deploy/run-deploy.js');
        const forgotten = await forgetHostKey(ctx.connect(opts.config).config, target);
        ctx.out.printLine(`forgot ${forgotten.fingerprint} for ${forgotten.target}`);
      }),
    );
}
