import type { IncomingMessage } from 'node:http';
import { OkesuError } from '../../errors.js';
import { ROLES, type Role } from '../../protocol/api.js';
import { parseToken } from '../../protocol/tokens.js';
import type { TokensRepo } from '../store/tokens.js';
import { secretMatches } from '../secrets.js';

/** An authenticated operator: the token's id, its name and role, and when the token expires (null: never). */
export interface OperatorIdentity {
  tokenId: string;
  name: string;
  role: Role;
  expiresAt?: number | null;
}

/** Reads `Authorization: Bearer …` from a request; undefined when absent. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  return m ? m[1] : undefined;
}

/** Operator authentication: tokens checked against the store, roles against what a route needs. */
export interface OperatorAuth {
  /** The operator behind the request's bearer token; throws a catalogue error saying why not (absent, invalid, revoked, expired). */
  authenticate(req: IncomingMessage): OperatorIdentity;
  /** Throws OKS_ERR_FORBIDDEN unless `op` has at least `needed`. */
  authorize(op: OperatorIdentity, needed: Role): void;
}

/** Checks operator tokens against the store and roles against what a route needs. */
export function createOperatorAuth(tokens: TokensRepo, now: () => number): OperatorAuth {
  return {
    /** The operator behind the request's bearer token; throws a catalogue error saying why not. */
    authenticate(req: IncomingMessage): OperatorIdentity {
      const text = bearerToken(req);
      if (!text) throw new OkesuError('OKS_ERR_UNAUTHENTICATED', 'send Authorization: Bearer <operator token>');
      const parsed = parseToken(text, 'operator');
      if (!parsed) throw new OkesuError('OKS_ERR_TOKEN_INVALID', 'not an operator token (okt_…)');
      const row = tokens.get(parsed.id);
      if (!row || row.kind !== 'operator' || !row.role || !secretMatches(parsed.secret, row.hash)) {
        throw new OkesuError('OKS_ERR_TOKEN_INVALID', 'unknown operator token');
      }
      if (row.revoked_at !== null) throw new OkesuError('OKS_ERR_TOKEN_REVOKED');
      if (row.expires_at !== null && row.expires_at <= now()) throw new OkesuError('OKS_ERR_TOKEN_EXPIRED');
      return { tokenId: row.id, name: row.name || row.id, role: row.role, expiresAt: row.expires_at };
    },
    /** Throws OKS_ERR_FORBIDDEN unless `op` has at least `needed`. */
    authorize(op: OperatorIdentity, needed: Role): void {
      if (ROLES.indexOf(op.role) < ROLES.indexOf(needed)) {
        throw new OkesuError('OKS_ERR_FORBIDDEN', `${op.role} token "${op.name}" cannot do this; it needs ${needed} or above`);
      }
    },
  };
}
