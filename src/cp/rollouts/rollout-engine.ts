import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { OkesuError } from '../../errors.js';
import { matchesSelector, parseHostSelector } from '../../protocol/host-selector.js';
import { FINAL_HOST_STATES } from '../../protocol/rollout.js';
import type { CreateRolloutRequest, HostRollout, RolloutHostState, RolloutHostView, RolloutView } from '../../protocol/rollout.js';
import type { CpFrame } from '../../protocol/tunnel.js';
import type { ReleaseStore } from '../releases/release-store.js';
import type { Actor } from '../store/audit.js';
import { hostView, rolloutView, type RolloutHostRow, type RolloutRow } from '../store/rollouts.js';
import type { Store } from '../store/store.js';
import { isFinal, isForward, planBatches } from './rollout-plan.js';
import type { Rollouts } from './rollouts.js';
import type { UpgradeDelivery } from './upgrade-delivery.js';

/** The tunnel frame that orders one host to upgrade. */
export type UpgradeFrame = Extract<CpFrame, { type: 'upgrade' }>;

/** What a rollout feed entry (kind `rollout`) carries: the rollout's summary and the host that moved, if one did. */
export interface RolloutChange {
  rollout: RolloutView;
  host?: RolloutHostView;
}

/** Time a host has, beyond its health timeout, to download and report before it is failed "no report". */
export const DOWNLOAD_MARGIN_MS = 10 * 60_000;

/** What the engine needs from the CP. */
export interface RolloutDeps {
  store: Store;
  releases: Pick<ReleaseStore, 'get'>;
  /** How orders reach hosts (the tunnel, else the jobs bucket: upgrade-delivery.ts); `sendUpgrade` is false when the host is gone. */
  delivery: Pick<UpgradeDelivery, 'isOnline' | 'sendUpgrade'> & Partial<Pick<UpgradeDelivery, 'settled'>>;
  /** Publishes a committed feed entry on the live stream. */
  publish(cursor: number, change: RolloutChange): void;
  now: () => number;
  log: Logger;
  /** Default DOWNLOAD_MARGIN_MS; tests shorten it. */
  downloadMarginMs?: number;
  /** How often hosts that went quiet are looked for (default 5 s). */
  sweepMs?: number;
}

/** Records a change of a rollout (and of one of its hosts, from the state it had) for the feed. */
type Changed = (rolloutId: string, host?: RolloutHostRow, from?: RolloutHostState) => void;

const SYSTEM: Actor = { name: 'cp', role: 'system' };
const asActor = (a: string | Actor): Actor => (typeof a === 'string' ? { name: a, role: 'operator' } : a);

/** Builds the rollout engine: state in the store, so a restarted CP resumes its running rollouts. */
export function createRollouts(deps: RolloutDeps): Rollouts {
  const repo = deps.store.rollouts;
  const marginMs = deps.downloadMarginMs ?? DOWNLOAD_MARGIN_MS;
  // Each host's latest rollout state, for `okesu hosts` (read per host view, so kept in memory).
  let latest = new Map<string, HostRollout>();
  let sweeper: NodeJS.Timeout | undefined;

  const view = (row: RolloutRow, withHosts = false): RolloutView => rolloutView(row, repo.counts(row.id), withHosts ? repo.hosts(row.id) : undefined);

  /**
   * Runs `fn` in one transaction; its feed entries are published after the commit. `changed(id, host, from)` records
   * a change (`from`: the host's state before it). A rollout's counts are read once per transaction and then kept
   * by each change: ordering a batch of 10,000 offline hosts must not count the rollout 10,000 times.
   */
  const commit = <T>(fn: (changed: Changed) => T): T => {
    const out: { cursor: number; change: RolloutChange }[] = [];
    const counted = new Map<string, RolloutView['counts']>();
    const result = deps.store.transaction(() =>
      fn((rolloutId, host, from) => {
        const row = repo.get(rolloutId);
        if (!row) return;
        let counts = counted.get(rolloutId);
        if (!counts) counted.set(rolloutId, (counts = repo.counts(rolloutId)));
        else if (host && from !== undefined && from !== host.state) {
          counts[from] -= 1;
          counts[host.state] += 1;
        }
        const change: RolloutChange = { rollout: rolloutView(row, { ...counts }), ...(host && { host: hostView(host) }) };
        out.push({ cursor: deps.store.feed.append(deps.now(), 'rollout', change), change });
      }),
    );
    for (const o of out) {
      deps.publish(o.cursor, o.change);
      // A host's order is done with once it is final, whoever decided (its report, the no-report sweep, offline).
      const h = o.change.host;
      if (h && FINAL_HOST_STATES.includes(h.state)) deps.delivery.settled?.(h.hostname, o.change.rollout.rollout_id);
    }
    return result;
  };

  const remember = (row: RolloutRow, host: RolloutHostRow): void => {
    const known = latest.get(host.hostname);
    if (!known || known.rollout_id === row.id) latest.set(host.hostname, { rollout_id: row.id, version: row.version, state: host.state });
  };

  /** Writes a host's new state; halts its rollout when asked to and the host ended badly. Inside a transaction. */
  const moveHost = (changed: Changed, row: RolloutRow, host: RolloutHostRow, state: RolloutHostState, reason: string | null): void => {
    const next: RolloutHostRow = { ...host, state, reason, updated_at: deps.now() };
    repo.setHost(next);
    remember(row, next);
    changed(row.id, next, host.state);
    if (row.state === 'running' && row.halt_on_error && (state === 'failed' || state === 'rolled_back')) {
      const why = `${host.hostname} ${state}${reason ? `: ${reason}` : ''}`;
      repo.setState(row.id, 'halted', deps.now(), why);
      deps.store.audit.record(deps.now(), SYSTEM, 'rollout.halt', row.id, { reason: why });
      deps.log.warn({ rollout: row.id, host: host.hostname, state, reason }, 'rollout halted');
      changed(row.id);
    }
  };

  /**
   * Orders the next batch while the previous ones are final: each host of it gets the upgrade frame when its tunnel
   * is up, or fails "offline". A rollout whose hosts are all final is completed.
   */
  const advance = (rolloutId: string): void => {
    const frames: { hostname: string; frame: UpgradeFrame }[] = [];
    commit((changed) => {
      for (;;) {
        const row = repo.get(rolloutId);
        if (!row || row.state !== 'running') return;
        // The same rule as currentBatch (rollout-plan.ts), asked of the store so a large rollout is not read whole.
        const batch = repo.currentBatch(rolloutId);
        if (batch === undefined) {
          repo.setState(rolloutId, 'completed', deps.now(), null);
          deps.log.info({ rollout: rolloutId }, 'rollout completed');
          changed(rolloutId);
          return;
        }
        const toOrder = repo.batchHosts(rolloutId, batch).filter((h) => h.ordered_at === null && !isFinal(h.state));
        if (toOrder.length === 0) return; // the batch is in flight
        const release = deps.releases.get(row.version);
        for (const h of toOrder) {
          const at = deps.now();
          const online = release !== undefined && deps.delivery.isOnline(h.hostname);
          const from = deps.store.hosts.get(h.hostname)?.version ?? '';
          const ordered: RolloutHostRow = { ...h, ordered_at: at, from_version: from, updated_at: at };
          if (!online) {
            moveHost(changed, row, ordered, 'failed', release ? 'offline' : `release ${row.version} is no longer stored`);
            if (repo.get(rolloutId)?.state !== 'running') return;
            continue;
          }
          repo.setHost(ordered);
          remember(row, ordered);
          changed(rolloutId, ordered);
          frames.push({
            hostname: h.hostname,
            frame: { type: 'upgrade', rollout_id: rolloutId, release: release.signed, allow_downgrade: row.allow_downgrade, health_timeout_ms: row.health_timeout_ms },
          });
        }
        // A batch that failed whole (every host offline) is final: go on to the next one in the same pass.
      }
    });
    // Sent after the commit, so a frame never goes out for an order the store does not hold.
    const lost = frames.filter((f) => {
      const sent = deps.delivery.sendUpgrade(f.hostname, f.frame);
      if (sent) deps.log.info({ rollout: rolloutId, host: f.hostname }, 'upgrade ordered');
      return !sent;
    });
    if (lost.length > 0) {
      commit((changed) => {
        const row = repo.get(rolloutId);
        for (const f of lost) {
          const h = repo.host(rolloutId, f.hostname);
          if (row && h && !isFinal(h.state)) moveHost(changed, row, h, 'failed', 'offline');
        }
      });
      advance(rolloutId);
    }
  };

  const resolveHosts = (request: CreateRolloutRequest): string[] => {
    const known = deps.store.hosts.list();
    if (request.hosts) {
      const names = new Set(known.map((h) => h.hostname));
      const unknown = request.hosts.filter((h) => !names.has(h));
      if (unknown.length > 0) throw new OkesuError('OKS_ERR_BAD_REQUEST', `no host named ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ` and ${unknown.length - 10} more` : ''}`);
      return request.hosts;
    }
    if (request.selector !== undefined) {
      const parsed = parseHostSelector(request.selector);
      if (!parsed.ok) throw new OkesuError('OKS_ERR_BAD_REQUEST', `selector: ${parsed.error}`);
      return known.filter((h) => matchesSelector(parsed.selector, h.labels)).map((h) => h.hostname);
    }
    return known.map((h) => h.hostname);
  };

  // Hosts ordered that said nothing for their health timeout plus the download margin have failed.
  const sweep = (): void => {
    const at = deps.now();
    const quiet = repo.inFlight().filter((h) => at - h.updated_at > h.health_timeout_ms + marginMs);
    const touched = new Set<string>();
    if (quiet.length > 0) {
      commit((changed) => {
        for (const h of quiet) {
          const row = repo.get(h.rollout_id);
          if (!row) continue;
          moveHost(changed, row, h, 'failed', 'no report');
          touched.add(row.id);
        }
      });
    }
    for (const id of touched) advance(id);
  };

  return {
    create(request, actor) {
      const release = deps.releases.get(request.version);
      if (!release) throw new OkesuError('OKS_ERR_NOT_FOUND', `no release ${request.version} is stored on the CP; add it with okesu release add`);
      const hostnames = resolveHosts(request);
      if (hostnames.length === 0) throw new OkesuError('OKS_ERR_BAD_REQUEST', `no host matches ${request.selector ?? 'the request'}`);
      // Two running rollouts ordering one host would race on its binary: a host is in one running rollout at a time.
      const busy = repo.busyHosts();
      const taken = hostnames.filter((h) => busy.has(h));
      if (taken.length > 0) {
        const first = taken[0] as string;
        throw new OkesuError('OKS_ERR_STATE', `${taken.length} host${taken.length === 1 ? '' : 's'} already in a running rollout (${first} in ${busy.get(first)}); wait for it or cancel it`);
      }
      const by = asActor(actor);
      const id = `ro_${randomBytes(8).toString('hex')}`;
      const plan = planBatches(hostnames, request.canary, request.batch);
      commit((changed) => {
        const at = deps.now();
        repo.insert(
          { id, version: request.version, created_at: at, created_by: by.name, batch: request.batch, canary: request.canary, halt_on_error: request.halt_on_error, health_timeout_ms: request.health_timeout_ms, allow_downgrade: request.allow_downgrade },
          plan,
        );
        deps.store.audit.record(at, by, 'rollout.create', id, {
          version: request.version, hosts: plan.length, target: request.hosts ? `${request.hosts.length} hosts` : (request.selector ?? 'all'),
          batch: request.batch, canary: request.canary, halt_on_error: request.halt_on_error, allow_downgrade: request.allow_downgrade,
        });
        for (const p of plan) latest.set(p.hostname, { rollout_id: id, version: request.version, state: 'pending' });
        changed(id);
      });
      deps.log.info({ rollout: id, version: request.version, hosts: plan.length, by: by.name }, 'rollout created');
      advance(id);
      return view(repo.get(id) as RolloutRow, true);
    },
    get(rolloutId) {
      const row = repo.get(rolloutId);
      return row && view(row, true);
    },
    list(limit) {
      return repo.list(limit).map((row) => view(row));
    },
    cancel(rolloutId, actor) {
      const by = asActor(actor);
      return commit((changed) => {
        const row = repo.get(rolloutId);
        if (!row) throw new OkesuError('OKS_ERR_NOT_FOUND', `no rollout ${rolloutId}`);
        if (row.state !== 'running') throw new OkesuError('OKS_ERR_STATE', `rollout ${rolloutId} is already ${row.state}`);
        repo.setState(rolloutId, 'cancelled', deps.now(), null);
        deps.store.audit.record(deps.now(), by, 'rollout.cancel', rolloutId, { version: row.version });
        changed(rolloutId);
        return view(repo.get(rolloutId) as RolloutRow, true);
      });
    },
    onUpgradeStatus(hostname, report) {
      const row = repo.get(report.rollout_id);
      const host = row && repo.host(row.id, hostname);
      if (!row || !host || host.ordered_at === null || !isForward(host.state, report.state)) return;
      if (report.version !== row.version) {
        deps.log.warn({ rollout: row.id, host: hostname, version: report.version }, 'upgrade status for another version ignored');
        return;
      }
      commit((changed) => moveHost(changed, row, host, report.state, report.reason ?? null));
      if (isFinal(report.state)) advance(row.id);
    },
    onHello(hostname, version) {
      const restarted = repo.inFlightOf(hostname).filter((h) => h.state === 'restarting' && h.version === version);
      if (restarted.length === 0) return;
      commit((changed) => {
        for (const h of restarted) {
          const row = repo.get(h.rollout_id);
          if (row) moveHost(changed, row, h, 'healthy', null);
        }
      });
      for (const h of restarted) advance(h.rollout_id);
    },
    hostState: (hostname) => latest.get(hostname),
    inUse: (version) => repo.inUse(version),
    start() {
      latest = repo.latestPerHost();
      for (const row of repo.withState('running')) advance(row.id);
      sweeper = setInterval(() => {
        try {
          sweep();
        } catch (err) {
          if (!deps.store.health.failed(err, 'rollout sweep')) deps.log.error({ err }, 'rollout sweep failed');
        }
      }, deps.sweepMs ?? 5000);
      sweeper.unref();
    },
    stop() {
      if (sweeper) clearInterval(sweeper);
      sweeper = undefined;
    },
  };
}
