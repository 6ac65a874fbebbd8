/** A public key the host policy trusts to sign agent definitions (`trusted_agent_keys`). */
export interface AgentKey {
  /** `ed25519:<base64 of the 32 raw bytes>`. */
  key: string;
  /** A name for logs and refusals. */
  name?: string;
}

const KEY_RE = /^ed25519:([A-Za-z0-9+/]{43}=)$/;

/** Why `text` is not a public key in the policy's form (`ed25519:` + canonical base64 of 32 bytes), or undefined when it is. */
export function agentKeyError(text: string): string | undefined {
  const m = KEY_RE.exec(text);
  if (!m) return 'expected an ed25519 public key written ed25519:<base64 of 32 bytes> (okesu agents keygen prints one)';
  const raw = Buffer.from(m[1] as string, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== m[1]) return 'the key is not the base64 of 32 bytes';
  return undefined;
}
