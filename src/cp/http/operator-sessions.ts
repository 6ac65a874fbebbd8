import type { ErrorCode } from '../../errors.js';
import type { CpClock } from '../orchestration/clock.js';
import type { OperatorIdentity } from './operator-auth.js';

/** Why a live connection of a token is being ended: the token was revoked, or it expired while connected. */
export type EndReason = Extract<ErrorCode, 'OKS_ERR_TOKEN_REVOKED' | 'OKS_ERR_TOKEN_EXPIRED'>;

/** Ends one live connection (a stream socket, a long poll) because its token lost its standing. */
export type EndConnection = (reason: EndReason) => void;

/** The registry of live operator connections. */
export interface OperatorSessions {
  /** Registers a live connection of `op`; returns the function that unregisters it (call it when it closes). */
  track(op: OperatorIdentity, end: EndConnection): () => void;
  /** Ends every live connection of a token now; returns how many there were. */
  endToken(tokenId: string, reason: EndReason): number;
  /** Live connections across all tokens (for tests and metrics). */
  count(): number;
  /** Clears every expiry timer (shutdown); the connections themselves are closed by their owners. */
  stop(): void;
}

interface TokenSessions {
  ends: Set<EndConnection>;
  timer: unknown;
}

/**
 * The live connections of each operator token, so a change of the token's standing reaches them at once: revoking a
 * token ends every stream and long poll it holds, and a token that expires while connected is ended at its expiry.
 * Authentication happens once per connection; this is what keeps a long-lived connection from outliving its token.
 */
export function createOperatorSessions(deps: { now: () => number; clock: CpClock }): OperatorSessions {
  const byToken = new Map<string, TokenSessions>();

  const clear = (timer: unknown): void => {
    if (timer !== undefined) deps.clock.clearTimer(timer);
  };

  const endAll = (tokenId: string, reason: EndReason): number => {
    const entry = byToken.get(tokenId);
    if (!entry) return 0;
    byToken.delete(tokenId);
    clear(entry.timer);
    const ends = [...entry.ends];
    for (const end of ends) end(reason);
    return ends.length;
  };

  // Armed on the CP's clock; a timer that fires early (clock skew between `now` and the timer) re-arms.
  const armExpiry = (tokenId: string, expiresAt: number): unknown => {
    const fire = (): void => {
      const entry = byToken.get(tokenId);
      if (!entry) return;
      const left = expiresAt - deps.now();
      if (left > 0) entry.timer = deps.clock.setTimer(fire, left);
      else endAll(tokenId, 'OKS_ERR_TOKEN_EXPIRED');
    };
    return deps.clock.setTimer(fire, Math.max(0, expiresAt - deps.now()));
  };

  return {
    track(op, end) {
      let entry = byToken.get(op.tokenId);
      if (!entry) {
        entry = { ends: new Set(), timer: op.expiresAt == null ? undefined : armExpiry(op.tokenId, op.expiresAt) };
        byToken.set(op.tokenId, entry);
      }
      entry.ends.add(end);
      const mine = entry;
      return () => {
        mine.ends.delete(end);
        if (mine.ends.size === 0 && byToken.get(op.tokenId) === mine) {
          byToken.delete(op.tokenId);
          clear(mine.timer);
        }
      };
    },
    endToken: endAll,
    count() {
      let n = 0;
      for (const e of byToken.values()) n += e.ends.size;
      return n;
    },
    stop() {
      for (const e of byToken.values()) clear(e.timer);
      byToken.clear();
    },
  };
}
