import { createHash } from 'node:crypto';

/** The SHA-256 fingerprint of an SSH public key blob, as OpenSSH prints it: `SHA256:` and unpadded base64. */
export function sshFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** What the host key of a target is checked against: `--known-hosts`, or the key the CP pinned for it. */
export type HostKeyPolicy =
  | { kind: 'known_hosts'; file: string; fingerprints: readonly string[]; revoked: readonly string[] }
  | { kind: 'pin'; pinned: string | null };

/** A host key accepted (`firstUse`: nothing was pinned, the CP pins it after a successful deploy) or why not. */
export type HostKeyVerdict = { ok: true; firstUse: boolean } | { ok: false; changed: boolean; reason: string };

/** Checks the fingerprint a host presented against the policy; a changed or unknown key is refused. */
export function checkHostKey(seen: string, policy: HostKeyPolicy): HostKeyVerdict {
  if (policy.kind === 'pin') {
    if (policy.pinned === null) return { ok: true, firstUse: true };
    if (policy.pinned === seen) return { ok: true, firstUse: false };
    return {
      ok: false, changed: true,
      reason: `host key changed: the host presents ${seen}, the CP pinned ${policy.pinned} (if the host was legitimately reinstalled: okesu deploy forget-key TARGET)`,
    };
  }
  if (policy.revoked.includes(seen)) return { ok: false, changed: true, reason: `host key ${seen} is marked @revoked in ${policy.file}` };
  if (policy.fingerprints.includes(seen)) return { ok: true, firstUse: false };
  if (policy.fingerprints.length > 0) {
    return { ok: false, changed: true, reason: `host key changed: the host presents ${seen}, ${policy.file} lists ${policy.fingerprints.join(', ')}` };
  }
  return { ok: false, changed: false, reason: `host key unknown: ${policy.file} has no key for this host (it presents ${seen})` };
}
