import { randomUUID } from 'node:crypto';
import { ensureAdminToken } from '../cp-state.js';
import type { Store } from '../store/store.js';
import type { SharedMeta } from './shared-identity.js';

/** The meta key recording that a replica has created the cluster's first admin token. */
export const ADMIN_TOKEN_ISSUED_KEY = 'cluster.admin_token_issued';

/**
 * The replicated form of `ensureAdminToken`: only the replica whose claim lands first in the shared record creates
 * the first admin token (and so writes admin.yaml); the others return undefined. The claim and the token are one
 * transaction, so a replica that dies between them leaves neither and the next start claims again. The record is
 * a unique key, so two replicas starting at once cannot both see "no admin yet" and both mint one.
 */
export function ensureSharedAdminToken(store: Store, meta: SharedMeta, now: number): string | undefined {
  return store.transaction(() => {
    if (store.tokens.hasAdmin()) return undefined;
    const claim = JSON.stringify({ claim: randomUUID(), at: now });
    if (meta.setIfAbsent(ADMIN_TOKEN_ISSUED_KEY, claim) !== claim) return undefined;
    return ensureAdminToken(store, now);
  });
}
