import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { backupDatabase } from '../../src/cp/store/backup.js';
import type { HostIdentity } from '../lib/register-host.js';
import type { Fleet } from './fleet.js';

/**
 * The run's registered fleets, kept for the suites after the one that registered them. Registering 10,000 hosts (a key,
 * a CSR and a signature each) takes 25–40 s, and four suites need the same 10,000: the first registers them through
 * `/v1/register` as before; the others start their CP on a copy of its state dir as it was right after registration
 * (the CA, the server key, the database with those hosts and their credentials) and give each simulator the identities
 * of its hostnames. A suite thus still meets a CP that has just seen its fleet register, never one that ran another
 * suite's tunnels, runs or findings. Only a fleet of exactly the same size is reused. OKESU_BENCH_FRESH_FLEET=1 turns
 * the sharing off (every suite registers its own, as before).
 */
export interface FleetTemplate {
  size: number;
  /** The fleet's hostnames, `${prefix}-00000` … (a template keeps the prefix of the suite that registered it). */
  prefix: string;
  hostnames: string[];
  identities: HostIdentity[];
  /** A CP state dir without its lock: the database (an online backup taken right after registration) and the files beside it. */
  dir: string;
  /** How long the registration took, and in which suite. */
  registerMs: number;
  registeredBy: string;
}

const templates = new Map<number, FleetTemplate>();
let exitHook = false;

const sharing = (): boolean => process.env['OKESU_BENCH_FRESH_FLEET'] !== '1';

/** The run's template of exactly `size` registered hosts, if a suite kept one. */
export function fleetTemplate(size: number): FleetTemplate | undefined {
  return sharing() ? templates.get(size) : undefined;
}

// The database goes through SQLite's online backup (the CP keeps running); its lock and WAL files stay behind.
const NOT_COPIED = new Set(['cp.db', 'cp.db-wal', 'cp.db-shm', 'cp.lock', 'cp.lock-journal']);

/** Keeps the CP state in `stateDir` and `fleet`'s identities as the run's template of `fleet.size` hosts (once per size); says whether it did. */
export async function keepFleetTemplate(stateDir: string, fleet: Fleet, registerMs: number, registeredBy: string): Promise<boolean> {
  if (!sharing() || templates.has(fleet.size)) return false;
  const dir = mkdtempSync(join(tmpdir(), 'okesu-bench-fleet-'));
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const t of templates.values()) rmSync(t.dir, { recursive: true, force: true });
    });
  }
  try {
    cpSync(stateDir, dir, { recursive: true, filter: (src) => !NOT_COPIED.has(basename(src)) });
    await backupDatabase(stateDir, join(dir, 'cp.db'));
    const identities = await fleet.identities();
    if (identities.length !== fleet.size) throw new Error(`only ${identities.length} of ${fleet.size} identities came back`);
    templates.set(fleet.size, { size: fleet.size, prefix: (fleet.hostnames[0] ?? '').replace(/-\d+$/, ''), hostnames: fleet.hostnames, identities, dir, registerMs, registeredBy });
    return true;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A fresh CP state dir copied from `template` (the suite's CP owns it and removes it). */
export function stateDirFrom(template: FleetTemplate): string {
  const dir = mkdtempSync(join(tmpdir(), 'okesu-bench-cp-'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  cpSync(template.dir, dir, { recursive: true });
  return dir;
}
