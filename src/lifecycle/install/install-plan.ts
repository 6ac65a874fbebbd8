import { dirname, relative } from 'node:path';
import type { Logger } from 'pino';
import { OkesuError } from '../../errors.js';
import { ensurePrivateDir } from '../../files/private-dir.js';
import { readFileIfExists } from '../../files/atomic-write.js';
import { loadIdentity } from '../../../daimon/identity.js';
import { lifecyclePaths } from '../../../daimon/lifecycle/state-layout.js';
import type { RunningExecutable } from '../running-executable.js';
import { systemdUnit } from '../units/systemd-unit.js';
import { assertUserName, superviseArgs } from '../units/unit-options.js';
import { runningSupervisor, startDetachedSupervisor, stopDetachedSupervisor } from './detached-supervisor.js';
import { copyFileAtomic, ensureDir, exists, linkTarget, sha256File, symlinkAtomic, writeTextAtomic } from './file-ops.js';
import { chownTree, createSystemUser, systemctl, systemdRunning, userExists } from './host-system.js';
import { readInstallFacts, writeInstallFacts } from './install-facts.js';
import { installLayout } from './install-layout.js';
import type { InstallLayout } from './install-layout.js';
import type { InstallOutcome } from '../../protocol/install-outcome.js';
import { skip, step } from './plan-step.js';
import type { PlanStep } from './plan-step.js';
import { registerHost } from './register-host.js';
import type { RegisterHost } from './register-host.js';
import { waitForHealth } from './wait-health.js';

/** What `okesu install` was asked to do. */
export interface InstallRequest {
  prefix: string;
  init: 'systemd' | 'none';
  /** The account of a systemd install to `/`. */
  user: string;
  /** This okesu: what is copied, and how the bundle is started (`node FILE`) when it is not the single executable. */
  source: RunningExecutable;
  version: string;
  register: Omit<RegisterHost, 'stateDir' | 'version'>;
  /** `okesu daemon` flags after `--state` (daemon-args.ts). */
  daemonArgs: string[];
  /** The environment of a detached supervisor (without the join token). */
  env: NodeJS.ProcessEnv;
  /** How long to wait for the first heartbeat; false: do not wait. */
  waitMs: number | false;
}

/** The steps of one install, what they will amount to, and what is known once they ran. */
export interface InstallPlan {
  outcome: InstallOutcome;
  layout: InstallLayout;
  steps: PlanStep[];
  /** The registered hostname (known after the registration step, or before when already registered). */
  hostname(): string | undefined;
  /** What the operator has to do by hand (systemd not running here, an install under a prefix). */
  notes: string[];
}

const short = (hash: string): string => hash.slice(0, 12);

/**
 * Looks at what is installed under the prefix and plans the steps that make it what `req` asks, each idempotent:
 * `--dry-run` prints them, the real run runs them. Nothing is written while planning.
 */
export function planInstall(req: InstallRequest, log: Logger): InstallPlan {
  const layout = installLayout(req.prefix);
  try {
    assertUserName(req.user);
  } catch (err) {
    throw new OkesuError('OKS_ERR_CONFIG', `--user: ${(err as Error).message}`);
  }
  const paths = lifecyclePaths(layout.stateDir);
  const sourceHash = sha256File(req.source.file);
  if (sourceHash === undefined) throw new OkesuError('OKS_ERR_INSTALL', `cannot read the running executable ${req.source.file}`);
  const installedHash = sha256File(layout.executable);
  const outcome: InstallOutcome = installedHash === undefined ? 'installed' : installedHash === sourceHash ? 'unchanged' : 'upgraded';
  const identity = loadIdentity(layout.stateDir);
  const facts = readInstallFacts(layout.facts);
  if (!identity && !req.register.token) {
    throw new OkesuError('OKS_ERR_CONFIG', `${layout.stateDir} holds no identity yet: give --cp URL --token JOIN (or --bucket s3://… --token JOIN)`);
  }
  let hostname = identity?.hostname;
  const argsChanged = facts !== undefined && facts.daemon_args.join('\0') !== req.daemonArgs.join('\0');
  /** The account is created and given the state directory only for a systemd install to `/`. */
  const ownUser = req.init === 'systemd' && layout.system && req.user !== 'root';
  const steps: PlanStep[] = [];
  const notes: string[] = [];

  // 1. The executable (also the supervisor), replaced atomically: a running supervisor keeps the old inode.
  steps.push(
    outcome === 'unchanged'
      ? skip(`${layout.executable} is this executable already (sha256 ${short(sourceHash)})`)
      : step(`copy ${req.source.file} to ${layout.executable} (0755, sha256 ${short(sourceHash)})`, () => {
          ensureDir(dirname(layout.executable), 0o755);
          copyFileAtomic(req.source.file, layout.executable, 0o755);
        }),
  );
  // 2. The account.
  if (req.init !== 'systemd') steps.push(skip('no user: with --init none the daimon runs as the user who installs it'));
  else if (!layout.system) steps.push(skip(`user ${req.user}: created only when installing to / (prefix ${layout.prefix})`));
  else if (req.user === 'root') steps.push(skip('user root: the daimon runs as root, inside the rest of the sandbox'));
  else if (userExists(req.user)) steps.push(skip(`user ${req.user} exists`));
  else steps.push(step(`create the system user ${req.user} (useradd --system, home ${layout.stateDir}, no login)`, () => createSystemUser(req.user, layout.stateDir)));
  // 3. The state directory and this version's copy for the supervisor (bin/okesu-VERSION, bin/current).
  steps.push(
    exists(layout.stateDir)
      ? skip(`${layout.stateDir} exists (identity and spool kept)`)
      : step(`create ${layout.stateDir} (0700)`, () => {
          ensureDir(dirname(layout.stateDir), 0o755);
          ensurePrivateDir(layout.stateDir);
        }),
  );
  if (req.init === 'systemd' && !exists(layout.tmp)) steps.push(step(`create ${layout.tmp} (0700, the daimon's TMPDIR under systemd)`, () => ensurePrivateDir(layout.tmp)));
  // The bundle keeps an .mjs name there: node will not load a script named okesu-1.2.3 (".3" reads as an extension).
  const versioned = req.source.single ? paths.executable(req.version) : paths.scriptExecutable(req.version);
  steps.push(
    sha256File(versioned) === sourceHash
      ? skip(`${versioned} is this executable already`)
      : step(`copy ${req.source.file} to ${versioned} (0755)`, () => {
          ensurePrivateDir(paths.bin);
          copyFileAtomic(req.source.file, versioned, 0o755);
        }),
  );
  const currentTarget = relative(paths.bin, versioned);
  const current = linkTarget(paths.current);
  if (current === currentTarget) steps.push(skip(`${paths.current} points at ${currentTarget}`));
  else if (current !== undefined && outcome === 'unchanged') steps.push(skip(`${paths.current} points at ${current} (an upgrade moved it on): kept`));
  else steps.push(step(`point ${paths.current} at ${currentTarget}`, () => symlinkAtomic(currentTarget, paths.current)));
  // 4. Registration, here and now: the token is used from memory and never written anywhere.
  if (identity) {
    steps.push(skip(`already registered as ${identity.hostname} with ${identity.cp}${req.register.token ? ': the join token is not used' : ''}`));
  } else {
    const where = req.register.cp ?? req.register.bucket?.url ?? '?';
    steps.push(
      step(`register with ${where}${req.register.hostname ? ` as ${req.register.hostname}` : ''} (the join token stays in memory)`, async () => {
        hostname = (await registerHost({ ...req.register, stateDir: layout.stateDir, version: req.version }, log)).hostname;
      }),
    );
  }
  // 5. What install did, for the next install and for uninstall; then the state directory to its owner.
  steps.push(
    step(`write ${layout.facts}`, () =>
      writeInstallFacts(layout.facts, {
        version: req.version, sha256: sourceHash, prefix: layout.prefix, init: req.init, user: req.init === 'systemd' ? req.user : 'root', state_dir: layout.stateDir,
        executable: layout.executable, daemon_args: req.daemonArgs, hostname: hostname ?? '', installed_at: Date.now(),
      }),
    ),
  );
  if (ownUser) steps.push(step(`give ${layout.stateDir} to ${req.user} (chown -R)`, () => chownTree(layout.stateDir, req.user)));
  // 6. Start (or restart) it.
  const started = { at: 0, expectVersion: outcome !== 'unchanged' };
  if (req.init === 'systemd') {
    // Under a prefix the unit still names the user: it is what would run; only / creates the user and gives it the state.
    const unit = systemdUnit({ executable: layout.executable, stateDir: layout.stateDir, user: req.user, daemonArgs: req.daemonArgs, version: req.version });
    const unitChanged = readFileIfExists(layout.unit) !== unit;
    steps.push(
      unitChanged
        ? step(`write ${layout.unit}`, () => {
            ensureDir(dirname(layout.unit), 0o755);
            writeTextAtomic(layout.unit, unit, 0o644); // public: systemd and operators read it, it holds no secret
          })
        : skip(`${layout.unit} is up to date`),
    );
    const restart = outcome === 'upgraded' || (unitChanged && exists(layout.unit));
    const commands = restart ? ['systemctl daemon-reload', 'systemctl enable okesu', 'systemctl restart okesu'] : ['systemctl daemon-reload', 'systemctl enable --now okesu'];
    if (layout.system && systemdRunning()) {
      for (const c of commands) {
        steps.push(step(c, () => {
          if (c.endsWith('restart okesu') || c.endsWith('--now okesu')) started.at = Date.now();
          systemctl(...c.split(' ').slice(1));
        }));
      }
    } else {
      notes.push(`systemd does not run ${layout.system ? 'on this machine' : `under the prefix ${layout.prefix}`}: to start the daimon, run ${commands.join(' && ')}`);
      steps.push(skip(`start: ${commands.join(' && ')} is left to the operator (systemd not running${layout.system ? '' : ' under a prefix'})`));
    }
  } else {
    const pid = runningSupervisor(layout.supervisePid);
    const [command, ...lead] = req.source.single ? [layout.executable] : [process.execPath, layout.executable];
    const args = [...lead, ...superviseArgs({ stateDir: layout.stateDir, daemonArgs: req.daemonArgs })];
    const start = step(`start ${layout.executable} supervise --state ${layout.stateDir} -- daemon … detached (pid in ${layout.supervisePid}, log ${layout.daimonLog})`, () => {
      started.at = Date.now();
      const child = startDetachedSupervisor({ command: command as string, args, logFile: layout.daimonLog, pidFile: layout.supervisePid, env: req.env });
      log.info({ pid: child }, 'supervisor started');
    });
    if (pid !== undefined && (outcome === 'upgraded' || argsChanged)) {
      steps.push(step(`stop the supervisor (pid ${pid}) to restart it ${outcome === 'upgraded' ? 'on the new executable' : 'with the new daemon flags'}`, async () => void (await stopDetachedSupervisor(layout.supervisePid))));
      steps.push(start);
    } else if (pid !== undefined) {
      steps.push(skip(`the supervisor runs (pid ${pid})`));
    } else {
      steps.push(start);
    }
  }
  // 7. The first heartbeat, as the daimon records it.
  const runsHere = req.init === 'none' || (layout.system && systemdRunning());
  if (req.waitMs !== false && runsHere) {
    const timeoutMs = req.waitMs;
    steps.push(
      step(`wait for ${paths.health} to show ${outcome === 'unchanged' ? 'a heartbeat' : `version ${req.version} heartbeating`} (up to ${Math.round(timeoutMs / 1000)} s)`, async () => {
        // Unchanged and not restarted: the running daimon's next mark will do, whatever version an upgrade gave it.
        const since = started.at !== 0 ? started.at : Date.now() - 60_000;
        await waitForHealth({
          path: paths.health, since, timeoutMs, ...(started.expectVersion && { version: req.version }),
          ...(req.init === 'none' && { gone: () => (runningSupervisor(layout.supervisePid) === undefined ? `the supervisor is not running (see ${layout.daimonLog})` : undefined) }),
        });
      }),
    );
  }
  return { outcome, layout, steps, notes, hostname: () => hostname };
}
