/** What a token is for: operator API access, a daimon joining, or a registered host's credential. */
export type TokenKind = 'operator' | 'join' | 'host';

const PREFIX: Record<TokenKind, string> = { operator: 'okt', join: 'okj', host: 'okh' };

/** A token split into its parts; `pin` (join tokens only) is the CA's base64url SHA-256. */
export interface ParsedToken {
  kind: TokenKind;
  id: string;
  secret: string;
  pin?: string;
}

const ID_RE = /^[0-9a-f]{16}$/;
const SECRET_RE = /^[0-9a-f]{64}$/;
const PIN_RE = /^[A-Za-z0-9_-]{43}$/;

/** Formats a token: `okt_<id>_<secret>`, `okh_<id>_<secret>`, or `okj_<id>_<secret>_<pin>`. */
export function formatToken(t: ParsedToken): string {
  const base = `${PREFIX[t.kind]}_${t.id}_${t.secret}`;
  return t.kind === 'join' ? `${base}_${t.pin ?? ''}` : base;
}

/** Parses a token of the expected kind; undefined when it is not one (wrong prefix, length or alphabet). */
export function parseToken(text: string, kind: TokenKind): ParsedToken | undefined {
  const trimmed = text.trim();
  const prefix = `${PREFIX[kind]}_`;
  if (!trimmed.startsWith(prefix)) return undefined;
  const rest = trimmed.slice(prefix.length);
  const id = rest.slice(0, 16);
  const secret = rest.slice(17, 81);
  if (rest[16] !== '_' || !ID_RE.test(id) || !SECRET_RE.test(secret)) return undefined;
  if (kind !== 'join') return rest.length === 81 ? { kind, id, secret } : undefined;
  const pin = rest.slice(82);
  if (rest[81] !== '_' || !PIN_RE.test(pin)) return undefined;
  return { kind, id, secret, pin };
}
