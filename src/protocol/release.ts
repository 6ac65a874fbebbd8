import { z } from 'zod';

/**
 * Signed releases (issue 15, docs/lifecycle.md). A release is an executable artifact plus a manifest naming its
 * version, platform, SHA-256 and size, signed with an ed25519 release key that never lives on the CP. The signature
 * covers the manifest's exact bytes (`manifest` is the JSON text, not an object), so no canonical-JSON step can make
 * signer and verifier disagree.
 */

/** The only platform the single executable is built for today. */
export const RELEASE_PLATFORM = 'linux-x64';

/** Manifest format tag: a verifier refuses any other. */
export const RELEASE_MANIFEST_SCHEMA = 'okesu-release/1';

/** `MAJOR.MINOR.PATCH` with an optional `-prerelease` (semver 2.0 order, no build metadata). */
export const versionSchema = z
  .string()
  .max(64)
  // A numeric pre-release identifier has no leading zero (semver 2.0): `rc.01` and `rc.1` would otherwise be two
  // texts of one version, and the order would not be total.
  .regex(
    /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})(-(0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(\.(0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*)?$/,
    'expected a version MAJOR.MINOR.PATCH[-PRERELEASE], e.g. 1.4.0',
  );

/** What a release key signs. */
export const releaseManifestSchema = z.strictObject({
  schema: z.literal(RELEASE_MANIFEST_SCHEMA),
  version: versionSchema,
  platform: z.string().regex(/^[a-z0-9]+-[a-z0-9_]+$/).max(32),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().positive().max(1024 * 1024 * 1024),
  /** When it was signed (ms since the epoch); informational. */
  created_at: z.number().int().nonnegative(),
});
/** A release manifest. */
export type ReleaseManifest = z.infer<typeof releaseManifestSchema>;

/** A release key's id: the first 16 hex digits of SHA-256 over its raw 32-byte public key. */
export const releaseKeyIdSchema = z.string().regex(/^[0-9a-f]{16}$/);

/**
 * The public half of a release key as text: `ed25519:` then the raw 32-byte key in base64 (one line, fits a flag, a
 * policy file and a registration answer).
 */
export const releasePublicKeySchema = z.string().regex(/^ed25519:[A-Za-z0-9+/]{43}=$/, 'expected a release public key ed25519:<base64 of 32 bytes>');

/** A manifest with its signature: what travels to the CP, to hosts, and into the bucket (`release.json`). */
export const signedReleaseSchema = z.strictObject({
  /** The manifest's JSON text, exactly as signed. */
  manifest: z.string().min(2).max(4096),
  /** ed25519 signature over the UTF-8 bytes of `manifest`, base64. */
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/),
  key_id: releaseKeyIdSchema,
});
/** A signed release. */
export type SignedRelease = z.infer<typeof signedReleaseSchema>;

/** A release as `GET /v1/releases` lists it. */
export const releaseViewSchema = z.object({
  version: versionSchema,
  platform: z.string(),
  sha256: z.string(),
  size: z.number().int(),
  key_id: releaseKeyIdSchema,
  created_at: z.number().int(),
  uploaded_at: z.number().int(),
  uploaded_by: z.string(),
});
/** A stored release. */
export type ReleaseView = z.infer<typeof releaseViewSchema>;

/** Headers of `POST /v1/releases` (the body is the artifact's bytes): the signed release as base64 JSON. */
export const RELEASE_HEADER = 'x-okesu-release';

function parsed(version: string): { core: number[]; pre: string[] } | undefined {
  if (!versionSchema.safeParse(version).success) return undefined;
  const dash = version.indexOf('-');
  const core = (dash < 0 ? version : version.slice(0, dash)).split('.').map(Number);
  return { core, pre: dash < 0 ? [] : version.slice(dash + 1).split('.') };
}

/**
 * Orders two versions by semver 2.0 precedence: negative when `a` is older, 0 when equal, positive when newer.
 * Throws on a string that is not a version (callers validate first).
 */
export function compareVersions(a: string, b: string): number {
  const x = parsed(a);
  const y = parsed(b);
  if (!x || !y) throw new Error(`not a version: ${!x ? a : b}`);
  for (let i = 0; i < 3; i++) if (x.core[i] !== y.core[i]) return (x.core[i] as number) - (y.core[i] as number);
  // A version without a pre-release ranks above the same version with one (1.0.0-rc.1 < 1.0.0).
  if (x.pre.length === 0 || y.pre.length === 0) return y.pre.length - x.pre.length;
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    if (p === q) continue;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    // Numeric identifiers have no leading zeros, so the longer is the larger; digits beyond 2^53 stay exact.
    if (pn && qn) return p.length !== q.length ? p.length - q.length : p < q ? -1 : 1;
    if (pn !== qn) return pn ? -1 : 1;
    return p < q ? -1 : 1;
  }
  return 0;
}
