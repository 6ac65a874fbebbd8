import { rmSync } from 'node:fs';
import { exists } from './file-ops.js';
import { removeSystemUser, systemctl, systemdRunning, userExists } from './host-system.js';
import { readInstallFacts } from './install-facts.js';
import { installLayout } from './install-layout.js';
import type { InstallLayout } from './install-layout.js';
import { runningSupervisor, stopDetachedSupervisor } from './detached-supervisor.js';
import { skip, step } from './plan-step.js';
import type { PlanStep } from './plan-step.js';

/** What `okesu uninstall` was asked to do. */
export interface UninstallRequest {
  prefix: string;
  /** Also remove the state directory (identity, spool) and the user: the host must register again. */
  purge: boolean;
}

/** The steps of one uninstall. */
export interface UninstallPlan {
  layout: InstallLayout;
  steps: PlanStep[];
  notes: string[];
}

/** Plans stopping the daimon and removing what install wrote, each step idempotent (nothing is written while planning). */
export function planUninstall(req: UninstallRequest): UninstallPlan {
  const layout = installLayout(req.prefix);
  let facts;
  try {
    facts = readInstallFacts(layout.facts);
  } catch {
    facts = undefined; // a damaged install.json must not stand in the way of removing the install.
  }
  const steps: PlanStep[] = [];
  const notes: string[] = [];
  // 1. Stop it.
  if (exists(layout.unit)) {
    if (layout.system && systemdRunning()) {
      steps.push(step('systemctl disable --now okesu', () => systemctl('disable', '--now', 'okesu')));
    } else {
      notes.push('systemd does not run here: stop the daimon with systemctl disable --now okesu where it runs');
      steps.push(skip('systemctl disable --now okesu: systemd does not run here'));
    }
    steps.push(step(`remove ${layout.unit}`, () => rmSync(layout.unit, { force: true })));
    if (layout.system && systemdRunning()) steps.push(step('systemctl daemon-reload', () => systemctl('daemon-reload')));
  } else {
    steps.push(skip(`${layout.unit}: none`));
  }
  const pid = runningSupervisor(layout.supervisePid);
  steps.push(
    pid === undefined
      ? skip('no detached supervisor runs')
      : step(`stop the supervisor (pid ${pid}) and its daimon`, async () => void (await stopDetachedSupervisor(layout.supervisePid))),
  );
  // 2. The executable.
  steps.push(exists(layout.executable) ? step(`remove ${layout.executable}`, () => rmSync(layout.executable, { force: true })) : skip(`${layout.executable}: none`));
  // 3. The state, only when purging: without it a reinstall is the same host (same identity, unsent events kept).
  if (!req.purge) {
    if (exists(layout.stateDir)) steps.push(skip(`${layout.stateDir} kept (identity, spool): a reinstall is the same host; --purge removes it`));
    if (pid === undefined && exists(layout.supervisePid)) steps.push(step(`remove the stale ${layout.supervisePid}`, () => rmSync(layout.supervisePid, { force: true })));
    return { layout, steps, notes };
  }
  steps.push(exists(layout.stateDir) ? step(`remove ${layout.stateDir} (identity, key, spool)`, () => rmSync(layout.stateDir, { recursive: true, force: true })) : skip(`${layout.stateDir}: none`));
  const user = facts?.user;
  if (user === undefined || user === 'root') steps.push(skip('no user of its own to remove'));
  else if (!layout.system) steps.push(skip(`user ${user}: users are only removed when uninstalling from /`));
  else if (!userExists(user)) steps.push(skip(`user ${user}: none`));
  else steps.push(step(`remove the user ${user} (userdel)`, () => removeSystemUser(user)));
  notes.push('the host stays in the CP\'s list: remove it there with okesu hosts rm HOST');
  return { layout, steps, notes };
}
