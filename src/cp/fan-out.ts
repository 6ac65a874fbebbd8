import { setImmediate as nextTurn } from 'node:timers/promises';
import { OkesuError } from '../errors.js';
import type { FanOutRequest } from '../protocol/api.js';
import { matchesSelector, parseHostSelector } from '../protocol/host-selector.js';
import type { HostsRepo } from './store/hosts.js';

/** Most names an error message lists before "and N more". */
const NAMES_SHOWN = 10;

/** Names a few items of a long list: `a, b, c and 12 more`. */
export function nameSome(names: readonly string[]): string {
  const shown = names.slice(0, NAMES_SHOWN).join(', ');
  return names.length > NAMES_SHOWN ? `${shown} and ${names.length - NAMES_SHOWN} more` : shown;
}

/**
 * The live hosts a fan-out targets. An explicit list naming any host that is not registered (or was revoked) is
 * refused whole, naming them; a selector that matches nobody is refused too, since it is almost surely a typo.
 */
export function resolveFanOutHosts(hosts: HostsRepo, target: FanOutRequest): string[] {
  if ('hosts' in target) {
    // Names only: reading every host's whole row (certificate, key, facts) was 174 ms of a 3,000-host fan-out profile.
    const known = new Set(hosts.names());
    const unknown = target.hosts.filter((h) => !known.has(h));
    if (unknown.length > 0) {
      throw new OkesuError('OKS_ERR_NOT_FOUND', `${unknown.length} of the ${target.hosts.length} hosts are not registered (or were removed): ${nameSome(unknown)}; nothing was dispatched`);
    }
    return target.hosts;
  }
  const parsed = parseHostSelector(target.selector);
  if (!parsed.ok) throw new OkesuError('OKS_ERR_BAD_REQUEST', `selector: ${parsed.error}`);
  const selected = hosts.list().filter((h) => matchesSelector(parsed.selector, h.labels)).map((h) => h.hostname);
  if (selected.length === 0) throw new OkesuError('OKS_ERR_NOT_FOUND', `no registered host matches ${target.selector}; nothing was dispatched`);
  return selected;
}

/**
 * Longest a fan-out sends before it lets the event loop serve everything else. Dispatch is what the operator waits
 * on: long turns let a 10,000-host fan-out go out in a few turns instead of interleaving with the ingest of the
 * results its first hosts already send back; short enough that heartbeats (seconds), the API and the live stream
 * only ever wait a fraction of a second.
 */
export const SEND_TURN_MS = 500;

/**
 * Calls `send` for every item, in turns of at most `turnMs` of the event loop, yielding between turns. Resolves,
 * once every send settled, with the items whose send failed (a synchronous throw counts as a failure of that item).
 */
export async function sendInTurns<T>(items: readonly T[], send: (item: T) => Promise<void>, turnMs = SEND_TURN_MS): Promise<Array<{ item: T; err: Error }>> {
  const failed: Array<{ item: T; err: Error }> = [];
  const fail = (item: T, err: unknown): void => void failed.push({ item, err: err instanceof Error ? err : new Error(String(err)) });
  const settling: Array<Promise<void>> = [];
  let i = 0;
  while (i < items.length) {
    if (i > 0) await nextTurn();
    const deadline = performance.now() + turnMs;
    do {
      const item = items[i++] as T;
      try {
        settling.push(send(item).catch((err: unknown) => fail(item, err)));
      } catch (err) {
        fail(item, err);
      }
    } while (i < items.length && (i % 64 !== 0 || performance.now() < deadline));
  }
  await Promise.all(settling);
  return failed;
}
