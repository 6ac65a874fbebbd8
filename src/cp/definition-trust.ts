import { createHash } from 'node:crypto';
import { OkesuError } from '../errors.js';
import type { OperatorIdentity } from './http/operator-auth.js';

/** Where the definition a dispatch carries came from: none, the CP's library (byte for byte), or the request (ad hoc). */
export type DefinitionOrigin = { source: 'none' } | { source: 'library' | 'ad-hoc'; sha256: string };

/** The hex SHA-256 of a definition's text (UTF-8), as the audit log records it. */
export function definitionSha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Classifies the definition a run request carries. It is from the library only when it is exactly the text the CP's
 * library holds for that agent: a modified copy of a library agent is ad hoc.
 */
export function definitionOrigin(agent: string, sent: string | undefined, library: ((agent: string) => string | undefined) | undefined): DefinitionOrigin {
  if (sent === undefined) return { source: 'none' };
  return { source: sent === library?.(agent) ? 'library' : 'ad-hoc', sha256: definitionSha256(sent) };
}

/**
 * Refuses an ad-hoc definition unless `by` is an admin (SPEC §11): its collectors and custom command run as the
 * daimon's user on every host it reaches, so sending one is not an operator's everyday dispatch.
 */
export function authorizeDefinition(origin: DefinitionOrigin, agent: string, by: OperatorIdentity): void {
  if (origin.source !== 'ad-hoc' || by.role === 'admin') return;
  throw new OkesuError(
    'OKS_ERR_FORBIDDEN',
    `${by.role} token "${by.name}" sent its own definition of agent ${agent}, which is not the CP's library copy; ad-hoc definitions run commands on every host they reach and need an admin token (dispatch the library agent by name, or add the file to cp serve --agents)`,
  );
}

/** The audit detail of a dispatch's definition: `{ definition: { source, sha256 } }`, or nothing when it carried none. */
export function definitionAudit(origin: DefinitionOrigin, by: OperatorIdentity): Record<string, unknown> {
  if (origin.source === 'none') return {};
  return { definition: { source: origin.source, sha256: origin.sha256, ...(origin.source === 'ad-hoc' && { by_role: by.role }) } };
}
